"""The schedule assumes the clock starts at 0: request i is intended at i / rate, so when the loop's
clock is already at 2.5, the first ten requests all go out at once."""

EXPECT = {
    "check": "check_constant_rate_schedule",
    "subject": "constant_rate",
    "property": "request 1 is sent at its intended time t=2.75 (a connection is free then)",
    "observed": "it was sent at t=2.5",
    "hint": "the clock does not start at 0",
}


async def constant_rate(call, *, rate, count, connections):
    loop = asyncio.get_running_loop()
    latencies = [0.0] * count
    slots = asyncio.Semaphore(connections)

    async def request(i):
        try:
            await call(i)
            latencies[i] = loop.time() - i / rate
        finally:
            slots.release()

    async with asyncio.TaskGroup() as group:
        for i in range(count):
            await asyncio.sleep(max(0.0, i / rate - loop.time()))
            await slots.acquire()
            group.create_task(request(i))
    return latencies
