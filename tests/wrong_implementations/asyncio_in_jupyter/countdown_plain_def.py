"""A plain function that sleeps with time.sleep: not a coroutine function at all."""

EXPECT = {
    "check": "check_countdown",
    "property": "countdown is defined with `async def`",
    "observed": "countdown is a plain function (`def`, not `async def`)",
}

import time


def countdown(n, delay):
    """Tick n, n-1, ..., 1 with ``delay`` seconds between ticks; return the tick times."""
    start = time.monotonic()
    times = []
    for tick in range(n, 0, -1):
        if tick != n:
            time.sleep(delay)
        times.append(round(time.monotonic() - start, 3))
    return times
