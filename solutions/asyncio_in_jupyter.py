"""Chapter 0 reference solution: first coroutines, checked on a virtual clock.

Both functions read time from the running event loop (``loop.time()``), so under
:func:`coursekit.run_virtual` the times are simulated seconds that start at 0, and
every run gives the same numbers. Times are rounded to 3 decimals.

The chapter notebook's solution regions are built from this module's source
(``tools/build_ch00.py``), so the two cannot drift apart.
"""

from __future__ import annotations

import asyncio


async def countdown(n, delay):
    """Tick n, n-1, ..., 1 with ``delay`` seconds between ticks; return the tick times.

    The result is the list of loop times (rounded to 3 decimals) at which the ticks
    happened, one per tick, in order: the first tick is immediate, and there is no
    sleep after the last one, so ``countdown(3, 1)`` started at t=0 returns
    ``[0.0, 1.0, 2.0]`` and takes 2 seconds. ``n <= 0`` ticks never and returns ``[]``.
    """
    loop = asyncio.get_running_loop()
    times = []
    for tick in range(n, 0, -1):
        if tick != n:
            await asyncio.sleep(delay)
        times.append(round(loop.time(), 3))
    return times


async def fetch_all(delays):
    """Sleep ``asyncio.sleep(d)`` for every ``d`` in ``delays``, all at once.

    The sleeps run concurrently, so the whole call takes ``max(delays)`` seconds
    (0 for no delays), not their sum. Returns the elapsed loop time, rounded to 3
    decimals. Every sleep has finished when it returns (none is left running).
    """
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with asyncio.TaskGroup() as group:
        for d in delays:
            group.create_task(asyncio.sleep(d))
    return round(loop.time() - start, 3)
