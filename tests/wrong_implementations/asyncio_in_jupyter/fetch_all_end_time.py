"""Sleeps concurrently, but returns the loop time at the end instead of the time it took:
right only when the clock happens to start at 0."""

EXPECT = {
    "check": "check_fetch_all",
    "args": {"delays": [3, 1, 2], "start": 12.5},
    "property": "fetch_all returns 3.0",
    "observed": "it returned 15.5",
    "hint": "the clock started at t=12.5, not 0",
}


async def fetch_all(delays):
    """Sleep ``asyncio.sleep(d)`` for every ``d`` in ``delays``, all at once."""
    async with asyncio.TaskGroup() as group:
        for d in delays:
            group.create_task(asyncio.sleep(d))
    return round(asyncio.get_running_loop().time(), 3)
