"""Sleeps concurrently and returns max(delays) instead of measuring: max() of no delays raises."""

EXPECT = {
    "check": "check_fetch_all",
    "args": {"delays": []},
    "property": "fetch_all runs without raising",
    "observed": "ValueError",
    "hint": "fetch_all([]) returns 0.0",
}


async def fetch_all(delays):
    """Sleep ``asyncio.sleep(d)`` for every ``d`` in ``delays``, all at once."""
    await asyncio.gather(*(asyncio.sleep(d) for d in delays))
    return round(float(max(delays)), 3)
