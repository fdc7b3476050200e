"""Sleeps before every tick, the first included: every tick comes one delay late."""

EXPECT = {
    "check": "check_countdown",
    "property": "countdown ticks at [0.0, 1.0, 2.0]",
    "observed": "it ticked at [1.0, 2.0, 3.0]",
}


async def countdown(n, delay):
    """Tick n, n-1, ..., 1 with ``delay`` seconds between ticks; return the tick times."""
    loop = asyncio.get_running_loop()
    times = []
    for tick in range(n, 0, -1):  # noqa: B007  (the bug: the tick is never used)
        await asyncio.sleep(delay)
        times.append(round(loop.time(), 3))
    return times
