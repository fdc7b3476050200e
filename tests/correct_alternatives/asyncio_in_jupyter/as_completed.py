"""countdown with a list comprehension over tick numbers and an explicit "not first" test;
fetch_all drains asyncio.as_completed, longest last whatever the input order."""


async def countdown(n, delay):
    loop = asyncio.get_running_loop()
    ticks = []
    for tick in range(n):
        if tick != 0:
            await asyncio.sleep(delay)
        ticks.append(round(loop.time(), 3))
    return ticks


async def fetch_all(delays):
    loop = asyncio.get_running_loop()
    began = loop.time()
    for finished in asyncio.as_completed([asyncio.sleep(d) for d in delays]):
        await finished
    return round(loop.time() - began, 3)
