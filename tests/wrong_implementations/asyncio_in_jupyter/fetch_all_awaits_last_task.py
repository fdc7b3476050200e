"""Starts every sleep as a task, but awaits only the last one, assuming it is the longest.

Right whenever the longest delay comes last (as in [1, 2, 3]); with [3, 1, 2] it returns
after 2 s while the 3 s sleep still runs."""

EXPECT = {
    "check": "check_fetch_all",
    "args": {"delays": [3, 1, 2], "start": 12.5},
    "property": "fetch_all takes 3 s (the longest delay)",
    "observed": "it took 2 simulated seconds",
    "hint": "not only one of them",
}


async def fetch_all(delays):
    """Sleep ``asyncio.sleep(d)`` for every ``d`` in ``delays``, all at once."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks = [asyncio.create_task(asyncio.sleep(d)) for d in delays]
    if tasks:
        await tasks[-1]
    return round(loop.time() - start, 3)
