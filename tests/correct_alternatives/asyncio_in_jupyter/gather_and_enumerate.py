"""countdown numbers its ticks with enumerate and sleeps before every tick but the first;
fetch_all hands every sleep to asyncio.gather and measures with two clock readings."""


async def countdown(n, delay):
    loop = asyncio.get_running_loop()
    ticks = []
    for index, _tick in enumerate(range(n, 0, -1)):
        if index > 0:
            await asyncio.sleep(delay)
        ticks.append(round(loop.time(), 3))
    return ticks


async def fetch_all(delays):
    loop = asyncio.get_running_loop()
    began = loop.time()
    await asyncio.gather(*(asyncio.sleep(d) for d in delays))
    return round(loop.time() - began, 3)
