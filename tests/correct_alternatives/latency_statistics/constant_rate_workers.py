"""`connections` worker tasks in a TaskGroup, each taking the next request number from a shared counter,
sleeping until its intended time, sending it, and going back for the next: a free worker is a free
connection, and requests are taken in order."""


async def constant_rate(call, *, rate, count, connections):
    loop = asyncio.get_running_loop()
    start = loop.time()
    latencies = [0.0] * count
    numbers = iter(range(count))

    async def worker():
        for i in numbers:
            intended = start + i / rate
            delay = intended - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await call(i)
            latencies[i] = loop.time() - intended

    async with asyncio.TaskGroup() as group:
        for _ in range(min(connections, count)):
            group.create_task(worker())
    return latencies
