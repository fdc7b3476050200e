"""countdown as a while loop that counts down and sleeps only while ticks remain;
fetch_all with asyncio.wait (ALL_COMPLETED), which refuses an empty set, so no delays
is handled first."""


async def countdown(n, delay):
    loop = asyncio.get_running_loop()
    ticks = []
    remaining = n
    while remaining > 0:
        ticks.append(round(loop.time(), 3))
        remaining -= 1
        if remaining:
            await asyncio.sleep(delay)
    return ticks


async def fetch_all(delays):
    loop = asyncio.get_running_loop()
    began = loop.time()
    tasks = {asyncio.create_task(asyncio.sleep(d)) for d in delays}
    if tasks:
        await asyncio.wait(tasks)
    return round(loop.time() - began, 3)
