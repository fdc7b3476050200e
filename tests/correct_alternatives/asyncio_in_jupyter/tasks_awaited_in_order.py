"""countdown keeps the raw clock readings and rounds them all at the end;
fetch_all starts every sleep as a task first, then awaits the tasks one by one
(in order: by the time the longest is awaited, the others are done or still overlapping)."""


async def countdown(n, delay):
    loop = asyncio.get_running_loop()
    raw = []
    for tick in range(n, 0, -1):
        raw.append(loop.time())
        if tick > 1:
            await asyncio.sleep(delay)
    return [round(t, 3) for t in raw]


async def fetch_all(delays):
    loop = asyncio.get_running_loop()
    began = loop.time()
    tasks = [asyncio.create_task(asyncio.sleep(d)) for d in delays]
    for task in tasks:
        await task
    return round(loop.time() - began, 3)
