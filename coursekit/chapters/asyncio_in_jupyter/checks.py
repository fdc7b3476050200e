"""Chapter 0 checks: countdown and fetch_all (see solutions/asyncio_in_jupyter.py).

Each ``check_*`` takes the learner's function, runs one call of it on a virtual
clock (:func:`timed_run`) started at loop time ``start``, then walks a
:class:`~coursekit.checks.Chain`: defined -> runs -> terminates -> correct -> respects
limits, one named property function each. Every property that holds prints a ``✓`` line;
the first that fails raises :class:`~coursekit.checks.CheckFailed` with what was observed and a
hint. The scenario (the check's call) is added to the message by ``learner_facing``.

Both exercises only sleep with ``asyncio.sleep``, so a correct solution takes
milliseconds of real time: code still running after ``wall_limit`` real seconds
blocks the thread (``time.sleep``, a loop without ``await``) and is reported so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from coursekit.checks import Chain, describe_error, learner_facing
from coursekit.scenario import (
    Outcome,
    alone_on_the_clock,
    cancellation_sweep,
    ends_cancelled_at_each_wait,
    sleep_until,
    timed_call,
)
from coursekit.virtual_time import VirtualRun, run_virtual

# The learner's functions, as the statement gives them.
Countdown = Callable[[int, float], Awaitable[object]]
"""``countdown(n, delay)``: the loop times of its ticks."""
FetchAll = Callable[[list[float]], Awaitable[object]]
"""``fetch_all(delays)``: the seconds it took."""

WALL_LIMIT = 2.0  # real seconds; the reference solutions need a few milliseconds


def timed_run(
    call: Callable[[], Awaitable[object]], *, start: float, deadline: float, wall_limit: float
) -> VirtualRun[Outcome]:
    """The scenario: ``call()`` once, at loop time ``start``, timed; an error it raises ends the run."""

    async def main() -> Outcome:
        await sleep_until(start)
        outcome = await timed_call(call())
        if outcome.error is not None:
            raise outcome.error
        return outcome

    return run_virtual(main, deadline=deadline, wall_limit=wall_limit)


def runs_to_the_end(chain: Chain, run: VirtualRun[Outcome], what: str, *, raised_hint: str) -> Outcome:
    """The run returned; if it raised, ``raised_hint`` says what in this scenario likely caused it."""
    if run.outcome == "raised" and not isinstance(run.error, NotImplementedError):
        chain.fail(f"{what} runs without raising", observed=f"raised {describe_error(run.error)}", hint=raised_hint)
    chain.require_finished(run, what)
    return run.unwrap()


# ----------------------------------------------------------------- countdown


@learner_facing
def check_countdown(
    countdown: Countdown,
    *,
    n: int = 3,
    delay: float = 1,
    start: float = 0.0,
    wall_limit: float = WALL_LIMIT,
    cancel_each_wait: bool = False,
) -> None:
    """``countdown(n, delay)`` started at loop time ``start`` returns the loop times of its ticks,
    ``[start, start + delay, ..., start + (n-1)*delay]`` rounded to 3 decimals (``[]`` for ``n == 0``),
    and returns right after the last tick. With ``cancel_each_wait``, then the cancellation sweep: the
    same call cancelled in the middle of each of its sleeps in turn must end as cancelled."""
    chain = Chain("countdown")
    chain.require_async_function(countdown, "countdown")
    run = timed_run(lambda: countdown(n, delay), start=start, deadline=start + 60, wall_limit=wall_limit)
    outcome = runs_to_the_end(
        chain,
        run,
        "countdown",
        raised_hint=f"call countdown({n}, {delay!r}) in a cell of its own (inside run_virtual) to see the traceback"
        + ("; with n=0 the loop must not run at all" if n == 0 else ""),
    )
    ticks = outcome.value
    countdown_returns_a_list(chain, ticks)
    countdown_ticks_n_times(chain, ticks, n)
    countdown_ticks_on_time(chain, ticks, n, delay, start)
    countdown_returns_after_the_last_tick(chain, outcome, n, delay)
    if cancel_each_wait:
        waits = [(i + 0.5) * delay for i in range(n - 1)]  # the middle of each sleep (the call starts at 0)
        cancelled_calls_end_as_cancelled(chain, "countdown", lambda: countdown(n, delay), waits, wall_limit)


def countdown_returns_a_list(chain: Chain, ticks: Any) -> None:
    chain.require(
        isinstance(ticks, list),
        "countdown returns a list",
        observed=f"it returned {ticks!r:.120}",
        hint="append each tick's time to a list, and return the list",
    )


def countdown_ticks_n_times(chain: Chain, ticks: list[Any], n: int) -> None:
    chain.require(
        len(ticks) == n,
        f"countdown ticks {n} time{'s' if n != 1 else ''}",
        observed=f"it returned {len(ticks)} time{'s' if len(ticks) != 1 else ''}: {ticks}",
        hint="one tick for each of n, n-1, ..., 1; try range(n, 0, -1)"
        + ("; countdown(0, delay) ticks never: the loop must not run at all" if n == 0 else ""),
    )


def countdown_ticks_on_time(chain: Chain, ticks: list[Any], n: int, delay: float, start: float) -> None:
    expected = [round(start + i * delay, 3) for i in range(n)]
    planned = [round(i * delay, 3) for i in range(n)]
    if ticks == planned and start:
        hint = (
            f"these are the times planned from 0, but the clock started at t={start:g}: read the time with "
            "round(asyncio.get_running_loop().time(), 3) at each tick, don't compute it"
        )
    elif ticks and ticks[0] != expected[0]:
        hint = (
            f"the first tick must come at once, at t={expected[0]:g} (when countdown was called): "
            "tick first, then sleep, but only between ticks"
        )
    elif all(abs(tick - want) < 1e-3 for tick, want in zip(ticks, expected, strict=True)):
        hint = "round each time to 3 decimals: round(asyncio.get_running_loop().time(), 3)"
    else:
        hint = (
            f"sleep exactly delay={delay!r} seconds between two ticks, and read the time with "
            "round(asyncio.get_running_loop().time(), 3) right at each tick"
        )
    chain.require(
        ticks == expected,
        f"countdown ticks at {expected}",
        observed=f"it ticked at {ticks}",
        hint=hint,
    )


def countdown_returns_after_the_last_tick(chain: Chain, outcome: Outcome, n: int, delay: float) -> None:
    duration = round((n - 1) * delay, 3) if n > 0 else 0
    took = round(outcome.took or 0.0, 3)
    chain.require(
        took == duration,
        f"countdown returns after {duration:g} s",
        observed=f"it returned after {took:g} simulated seconds",
        hint="return right after the last tick: don't sleep after it"
        if took > duration
        else "sleep with `await asyncio.sleep(delay)` between ticks",
    )


# ----------------------------------------------------------------- fetch_all


@learner_facing
def check_fetch_all(
    fetch_all: FetchAll,
    *,
    delays: Iterable[float] = (1, 2, 3),
    start: float = 0.0,
    wall_limit: float = WALL_LIMIT,
    cancel_each_wait: bool = False,
) -> None:
    """``fetch_all(delays)`` started at loop time ``start`` sleeps every delay concurrently: it takes
    ``max(delays)`` simulated seconds (0 for none), returns that time rounded to 3 decimals, and
    leaves no task running. With ``cancel_each_wait``, then the cancellation sweep: the same call
    cancelled between each two of its sleeps' ends must end as cancelled (the statement asks nothing
    of the sleeps of a cancelled call)."""
    delays = list(delays)
    chain = Chain("fetch_all")
    chain.require_async_function(fetch_all, "fetch_all")
    run = timed_run(lambda: fetch_all(delays), start=start, deadline=start + 600, wall_limit=wall_limit)
    outcome = runs_to_the_end(
        chain,
        run,
        "fetch_all",
        raised_hint="with no delays there is nothing to wait for: fetch_all([]) returns 0.0 (max() of an empty "
        "list raises, and asyncio.wait() refuses an empty set)"
        if not delays
        else "call fetch_all on these delays in a cell of its own (inside run_virtual) to see the traceback",
    )
    expected = round(float(max(delays, default=0)), 3)
    fetch_all_takes_the_longest_delay(chain, outcome, delays, expected)
    fetch_all_returns_the_time_it_took(chain, outcome.value, expected, start, delays)
    chain.require_no_leftover_tasks(run, "fetch_all")
    if cancel_each_wait:
        ends = sorted({0.0, *(float(delay) for delay in delays)})
        waits = [(low + high) / 2 for low, high in zip(ends, ends[1:], strict=False)]  # sleeps still running
        cancelled_calls_end_as_cancelled(chain, "fetch_all", lambda: fetch_all(delays), waits, wall_limit)


def fetch_all_takes_the_longest_delay(chain: Chain, outcome: Outcome, delays: list[float], expected: float) -> None:
    took = round(outcome.took or 0.0, 3)
    if len(delays) > 1 and took == round(sum(delays), 3):
        hint = (
            "the sleeps ran one after another; start them all before awaiting any: asyncio.gather(...) or a TaskGroup"
        )
    elif took < expected:
        hint = (
            f"it returned after {took:g} s, before the longest sleep ({expected:g} s) had finished: await every "
            "sleep (gather, a TaskGroup's block, or asyncio.wait with ALL_COMPLETED), not only one of them"
        )
    else:
        hint = "run each asyncio.sleep(d) exactly once, all at the same time"
    chain.require(
        took == expected,
        f"fetch_all takes {expected:g} s (the longest delay)",
        observed=f"it took {took:g} simulated seconds",
        hint=hint,
    )


def fetch_all_returns_the_time_it_took(
    chain: Chain, value: Any, expected: float, start: float, delays: list[float]
) -> None:
    if isinstance(value, int | float) and len(delays) > 1 and round(value, 3) == round(sum(delays), 3):
        hint = (
            "that is the sum of the delays, not the time it took: read the loop time before and after the sleeps "
            "and return the difference, rounded to 3 decimals"
        )
    elif isinstance(value, int | float) and start and round(value, 3) == round(start + expected, 3):
        hint = (
            f"that is the loop time at the end; the clock started at t={start:g}, not 0: "
            "subtract the loop time read at the start"
        )
    elif isinstance(value, int | float) and value != expected and round(value, 3) == expected:
        hint = "round the elapsed time to 3 decimals: round(end - start, 3)"
    else:
        hint = "return the loop time at the end minus the loop time at the start, rounded to 3 decimals"
    chain.require(
        value == expected,
        f"fetch_all returns {expected!r}",
        observed=f"it returned {value!r}",
        hint=hint,
    )


# ----------------------------------------------------------------- cancellation


def cancelled_calls_end_as_cancelled(
    chain: Chain, what: str, call: Callable[[], Awaitable[object]], waits: list[float], wall_limit: float
) -> None:
    """The kit's cancellation sweep (:func:`cancellation_sweep`): ``call()`` uncancelled, then cancelled at
    each instant of ``waits`` in turn (each in the middle of a sleep); every time, the CancelledError
    must come out of it (Python's contract for a coroutine). The instants are the exercise's own, not
    :func:`~coursekit.scenario.sweep_instants`: a plain ``asyncio.sleep`` emits no event to find them by."""
    if not waits:
        return
    scenario = alone_on_the_clock(call, deadline=max(waits) + 600, wall_limit=wall_limit)
    swept = cancellation_sweep(chain, what, scenario, instants=lambda _: waits)
    ends_cancelled_at_each_wait(
        chain,
        what,
        swept,
        hint="do not catch asyncio.CancelledError (nor use a bare `except:` or `except BaseException`): "
        "whoever cancelled the call waits for it to end as cancelled, not for a result",
    )
