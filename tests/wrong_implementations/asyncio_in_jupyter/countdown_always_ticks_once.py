"""Ticks first and loops n - 1 times after it: countdown(0, delay) still ticks once."""

EXPECT = {
    "check": "check_countdown",
    "args": {"n": 0, "delay": 2.5},
    "property": "countdown ticks 0 times",
    "observed": "it returned 1 time: [0.0]",
    "hint": "countdown(0, delay) ticks never",
}


async def countdown(n, delay):
    """Tick n, n-1, ..., 1 with ``delay`` seconds between ticks; return the tick times."""
    loop = asyncio.get_running_loop()
    times = [round(loop.time(), 3)]
    for _ in range(n - 1):
        await asyncio.sleep(delay)
        times.append(round(loop.time(), 3))
    return times
