"""Ticks at the right times, but sleeps once more after the last tick before returning."""

EXPECT = {
    "check": "check_countdown",
    "property": "countdown returns after 2 s",
    "observed": "it returned after 3 simulated seconds",
    "hint": "don't sleep after it",
}


async def countdown(n, delay):
    """Tick n, n-1, ..., 1 with ``delay`` seconds between ticks; return the tick times."""
    loop = asyncio.get_running_loop()
    times = []
    for tick in range(n, 0, -1):  # noqa: B007  (the bug: the tick is never used)
        times.append(round(loop.time(), 3))
        await asyncio.sleep(delay)
    return times
