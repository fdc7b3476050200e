"""Latencies appended as responses arrive: the list is in order of completion, so latencies[i] is not
request i's latency when a later request answers first."""

EXPECT = {
    "check": "check_constant_rate_schedule",
    "subject": "constant_rate",
    "property": "answered at t=3.25: 0.75 s",
    "observed": "latencies[0] is 0.25",
    "hint": "order of completion",
}


async def constant_rate(call, *, rate, count, connections):
    loop = asyncio.get_running_loop()
    start = loop.time()
    latencies = []
    slots = asyncio.Semaphore(connections)

    async def request(i, intended):
        try:
            await call(i)
            latencies.append(loop.time() - intended)
        finally:
            slots.release()

    async with asyncio.TaskGroup() as group:
        for i in range(count):
            intended = start + i / rate
            await asyncio.sleep(max(0.0, intended - loop.time()))
            await slots.acquire()
            group.create_task(request(i, intended))
    return latencies
