"""Latencies timed with time.perf_counter(): the wall clock does not move with the loop's (virtual)
clock, so every latency is about 0."""

import time

EXPECT = {
    "check": "check_constant_rate_schedule",
    "subject": "constant_rate",
    "property": "latencies[0]: request 0 was intended at t=2.5 and answered at t=3.25: 0.75 s",
    "observed": "latencies[0] is ",
    "hint": "time.perf_counter() and time.time() do not move",
}


async def constant_rate(call, *, rate, count, connections):
    loop = asyncio.get_running_loop()
    start = loop.time()
    begun = time.perf_counter()
    latencies = [0.0] * count
    slots = asyncio.Semaphore(connections)

    async def request(i):
        try:
            await call(i)
            latencies[i] = time.perf_counter() - (begun + i / rate)
        finally:
            slots.release()

    async with asyncio.TaskGroup() as group:
        for i in range(count):
            await asyncio.sleep(max(0.0, start + i / rate - loop.time()))
            await slots.acquire()
            group.create_task(request(i))
    return [max(0.0, latency) for latency in latencies]
