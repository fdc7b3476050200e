"""Chapter 0 checks: countdown and fetch_all (see solutions/asyncio_in_jupyter.py).

Each ``check_*`` takes the learner's function, runs one call of it on a virtual
clock (:func:`~coursekit.virtual_time.run_virtual`), then walks a
:class:`~coursekit.checks.Chain`: defined -> runs -> terminates -> correct ->
respects limits. Every property that holds prints a ``✓`` line; the first that
fails raises :class:`~coursekit.checks.CheckFailed` with what was observed and a hint.

Both exercises only sleep with ``asyncio.sleep``, so a correct solution takes
milliseconds of real time: code still running after ``wall_limit`` real seconds
blocks the thread (``time.sleep``, a loop without ``await``) and is reported so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from coursekit.checks import Chain, learner_facing
from coursekit.virtual_time import run_virtual

WALL_LIMIT = 2.0  # real seconds; the reference solutions need a few milliseconds


@learner_facing
def check_countdown(
    countdown: Callable[..., Any],
    *,
    n: int = 3,
    delay: float = 1,
    start: float = 0.0,
    wall_limit: float = WALL_LIMIT,
) -> None:
    """``countdown(n, delay)`` started at loop time ``start`` returns the loop times of its ticks,
    ``[start, start + delay, ..., start + (n-1)*delay]`` rounded to 3 decimals (``[]`` for ``n == 0``),
    and returns right after the last tick."""
    call = f"countdown({n}, {delay!r})" + (f" started at t={start:g}" if start else "")
    expected = [round(start + i * delay, 3) for i in range(n)]
    duration = round((n - 1) * delay, 3) if n > 0 else 0

    async def main() -> tuple[Any, float]:
        await asyncio.sleep(start)
        ticks = await countdown(n, delay)
        return ticks, asyncio.get_running_loop().time() - start

    chain = Chain("countdown")
    chain.require_async_function(countdown, "countdown")
    run = run_virtual(main, deadline=start + 60, wall_limit=wall_limit)
    chain.require_finished(run, call)
    ticks, took = run.unwrap()
    chain.require(
        isinstance(ticks, list),
        f"{call} returns a list",
        observed=f"it returned {ticks!r}",
        hint="append each tick's time to a list, and return the list",
    )
    chain.require(
        len(ticks) == n,
        f"{call} ticks {n} times",
        observed=f"it returned {len(ticks)} times: {ticks}",
        hint="one tick for each of n, n-1, ..., 1; try range(n, 0, -1)",
    )
    chain.require(
        ticks == expected,
        f"{call} ticks at {expected}",
        observed=f"it ticked at {ticks}",
        hint="tick first, then sleep, but only between ticks; "
        "read the time with round(asyncio.get_running_loop().time(), 3) at each tick"
        if len(ticks) == n and ticks and ticks[0] != expected[0]
        else "tick first, then sleep, but only between ticks; "
        "read the time with round(asyncio.get_running_loop().time(), 3)",
    )
    chain.require(
        round(took, 3) == duration,
        f"{call} returns after {duration:g} s",
        observed=f"it returned after {took:g} simulated seconds",
        hint="don't sleep after the last tick",
    )


@learner_facing
def check_fetch_all(
    fetch_all: Callable[..., Any],
    *,
    delays: Iterable[float] = (1, 2, 3),
    start: float = 0.0,
    wall_limit: float = WALL_LIMIT,
) -> None:
    """``fetch_all(delays)`` started at loop time ``start`` sleeps every delay concurrently: it takes
    ``max(delays)`` simulated seconds (0 for none), returns that time rounded to 3 decimals, and
    leaves no task running."""
    delays = list(delays)
    shown = delays if len(delays) <= 5 else f"[{delays[0]}, {delays[1]}, ..., {delays[-1]}]"
    call = f"fetch_all({shown})" + (f" started at t={start:g}" if start else "")
    expected = round(float(max(delays, default=0)), 3)

    async def main() -> tuple[Any, float]:
        await asyncio.sleep(start)
        value = await fetch_all(delays)
        return value, asyncio.get_running_loop().time() - start

    chain = Chain("fetch_all")
    chain.require_async_function(fetch_all, "fetch_all")
    run = run_virtual(main, deadline=start + 600, wall_limit=wall_limit)
    chain.require_finished(run, call)
    value, elapsed = run.unwrap()
    took = round(elapsed, 3)
    if took == round(sum(delays), 3):
        hint = (
            "the sleeps ran one after another; start them all before awaiting any: asyncio.gather(...) or a TaskGroup"
        )
    elif took < expected:
        hint = "it returned before the sleeps finished: await them all (gather, or a TaskGroup's block)"
    else:
        hint = "run each asyncio.sleep(d) exactly once, all at the same time"
    chain.require(
        took == expected,
        f"{call} takes {expected:g} s (the longest delay)",
        observed=f"it took {took:g} simulated seconds",
        hint=hint,
    )
    chain.require(
        value == expected,
        f"{call} returns {expected!r}",
        observed=f"it returned {value!r}",
        hint="return the loop time at the end minus the loop time at the start, rounded to 3 decimals",
    )
    chain.require_no_leftover_tasks(run, call)
