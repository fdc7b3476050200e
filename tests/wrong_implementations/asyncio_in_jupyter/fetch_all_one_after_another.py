"""Awaits each sleep before starting the next: the delays add up instead of overlapping."""

EXPECT = {
    "check": "check_fetch_all",
    "property": "fetch_all takes 3 s (the longest delay)",
    "observed": "it took 6 simulated seconds",
    "hint": "the sleeps ran one after another",
}


async def fetch_all(delays):
    """Sleep ``asyncio.sleep(d)`` for every ``d`` in ``delays``, all at once."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for d in delays:
        await asyncio.sleep(d)
    return round(loop.time() - start, 3)
