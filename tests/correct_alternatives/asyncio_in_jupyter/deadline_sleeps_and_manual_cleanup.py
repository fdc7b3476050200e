"""countdown sleeps until each tick's planned time (start + k * delay) rather than for a
fixed delay, so the ticks cannot drift; fetch_all starts one task per sleep, waits for them
with asyncio.wait, and, if it is cancelled on the way, cancels its own tasks before letting
the CancelledError go on (what a TaskGroup would do for it)."""


async def countdown(n, delay):
    loop = asyncio.get_running_loop()
    start = loop.time()
    ticks = []
    for k in range(max(n, 0)):
        planned = start + k * delay
        if planned > loop.time():
            await asyncio.sleep(planned - loop.time())
        ticks.append(round(loop.time(), 3))
    return ticks


async def fetch_all(delays):
    loop = asyncio.get_running_loop()
    began = loop.time()
    tasks = [asyncio.create_task(asyncio.sleep(d)) for d in delays]
    try:
        if tasks:
            await asyncio.wait(tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return round(loop.time() - began, 3)
