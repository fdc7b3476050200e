"""Document 000's crawler (section 8) starts its timer when the request is sent, after waiting for a free
slot: a request held back by a stalled service does not count its wait (coordinated omission)."""

EXPECT = {
    "check": "check_constant_rate_from_intended",
    "subject": "constant_rate",
    "property": "s",
    "observed": "latencies[9] is 0.125",
    "hint": "coordinated omission",
}


async def constant_rate(call, *, rate, count, connections):
    loop = asyncio.get_running_loop()
    start = loop.time()
    latencies = [0.0] * count
    slots = asyncio.Semaphore(connections)

    async def request(i):
        try:
            sent = loop.time()
            await call(i)
            latencies[i] = loop.time() - sent
        finally:
            slots.release()

    async with asyncio.TaskGroup() as group:
        for i in range(count):
            await asyncio.sleep(max(0.0, start + i / rate - loop.time()))
            await slots.acquire()
            group.create_task(request(i))
    return latencies
