"""Off by one: range(n, 1, -1) never ticks 1."""

EXPECT = {
    "check": "check_countdown",
    "property": "countdown ticks 3 times",
    "observed": "it returned 2 times: [0.0, 1.0]",
}


async def countdown(n, delay):
    """Tick n, n-1, ..., 1 with ``delay`` seconds between ticks; return the tick times."""
    loop = asyncio.get_running_loop()
    times = []
    for tick in range(n, 1, -1):
        if tick != n:
            await asyncio.sleep(delay)
        times.append(round(loop.time(), 3))
    return times
