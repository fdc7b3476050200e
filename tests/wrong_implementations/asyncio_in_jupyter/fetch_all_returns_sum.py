"""Sleeps concurrently, but returns the sum of the delays instead of the time it took."""

EXPECT = {"check": "check_fetch_all", "property": "fetch_all returns 3.0", "observed": "it returned 6"}


async def fetch_all(delays):
    """Sleep ``asyncio.sleep(d)`` for every ``d`` in ``delays``, all at once."""
    await asyncio.gather(*(asyncio.sleep(d) for d in delays))
    return sum(delays)
