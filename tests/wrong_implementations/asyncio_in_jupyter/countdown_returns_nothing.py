"""Ticks at the right times but forgets to return the list."""

EXPECT = {"check": "check_countdown", "property": "countdown returns a list", "observed": "it returned None"}


async def countdown(n, delay):
    """Tick n, n-1, ..., 1 with ``delay`` seconds between ticks; return the tick times."""
    loop = asyncio.get_running_loop()
    times = []
    for tick in range(n, 0, -1):
        if tick != n:
            await asyncio.sleep(delay)
        times.append(round(loop.time(), 3))
