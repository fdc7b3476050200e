"""Sleeps between ticks correctly, but returns the times it *planned* (0, delay, 2*delay, ...)
instead of reading the clock: right only when the clock happens to start at 0."""

EXPECT = {
    "check": "check_countdown",
    "args": {"n": 2, "delay": 0.75, "start": 8.0},
    "property": "countdown ticks at [8.0, 8.75]",
    "observed": "it ticked at [0.0, 0.75]",
    "hint": "the clock started at t=8",
}


async def countdown(n, delay):
    """Tick n, n-1, ..., 1 with ``delay`` seconds between ticks; return the tick times."""
    times = []
    for index in range(n):
        if index:
            await asyncio.sleep(delay)
        times.append(round(index * delay, 3))
    return times
