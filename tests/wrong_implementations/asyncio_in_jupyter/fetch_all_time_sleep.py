"""Sleeps with time.sleep: it blocks the thread, so the event loop (and its clock) stands still."""

EXPECT = {
    "check": "check_fetch_all",
    "property": "fetch_all never blocks the event loop",
    "observed": "time.sleep(d)",
}

import time


async def fetch_all(delays):
    """Sleep ``asyncio.sleep(d)`` for every ``d`` in ``delays``, all at once."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for d in delays:
        time.sleep(d)
    return round(loop.time() - start, 3)
