"""Creates the tasks and returns at once, without awaiting them."""

EXPECT = {
    "check": "check_fetch_all",
    "property": "fetch_all takes 3 s (the longest delay)",
    "observed": "it took 0 simulated seconds",
    "hint": "before the longest sleep (3 s) had finished",
}


async def fetch_all(delays):
    """Sleep ``asyncio.sleep(d)`` for every ``d`` in ``delays``, all at once."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks = [asyncio.create_task(asyncio.sleep(d)) for d in delays]  # noqa: F841  (the bug: never awaited)
    return round(loop.time() - start, 3)
