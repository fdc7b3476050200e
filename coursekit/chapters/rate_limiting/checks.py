"""Chapter 8 checks: the ``TokenBucket``, ``SlidingLogLimiter`` and ``PerClientLimiter`` classes.

The semantics are those of the chapter's statements and ``solutions/rate_limiting.py``.

Each check runs one scenario on the virtual clock, starting at ``start`` (not 0), and
compares what happened with a model of the statement: for a limiter that waits, the
instant each request must pass is unique (first come, first served, each at the instant
its tokens or its slot are there), so the model gives it and the check compares, after
the properties a learner reads first (never more than the limit in a window; exactly
``capacity`` at once from idle). Any design that keeps the statement passes: a lock or a
queue of futures, refilling on each call or by a timer of its own.

Each check is a short driver: a scenario function runs the learner's limiter and returns what it
observed, then named property functions, in the order a learner reads them, pass or fail the chain.

The checks' numbers are exact in binary (rates that are powers of two, times that are
multiples of 1/64 s), so that the virtual clock gives exact answers and a loop
``while tokens < amount: await asyncio.sleep(...)`` cannot spin on a rounding error.
"""

from __future__ import annotations

import asyncio
import functools
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar, cast

from coursekit.chapters.rate_limiting.analysis import CLOCK_RESOLUTION, busiest_window
from coursekit.chapters.rate_limiting.given import Decision, Timed, timed_acquire
from coursekit.checks import Chain, describe_error, learner_facing
from coursekit.scenario import (
    UNCANCELLED,
    Outcome,
    Swept,
    cancellation_sweep,
    cancelled_at,
    ends_cancelled_at_each_wait,
    make,
    sleep_until,
    sweep_instants,
    timed_call,
)
from coursekit.virtual_time import VirtualRun, run_virtual

T = TypeVar("T")

# ------------------------------------------------------ the learner's subjects


class Bucket(Protocol):
    """``TokenBucket(rate=, capacity=)``."""

    async def acquire(self, amount: int = 1, /) -> None: ...


class LogLimiter(Protocol):
    """``SlidingLogLimiter(limit=, window=)``."""

    async def acquire(self) -> None: ...

    async def try_acquire(self) -> bool: ...


class ClientLimiter(Protocol):
    """``PerClientLimiter(rate=, capacity=, idle_after=)``."""

    def try_acquire(self, client_id: str, amount: int = 1, /) -> Decision: ...

    def __len__(self) -> int: ...


BucketClass = Callable[..., Bucket]
LogLimiterClass = Callable[..., LogLimiter]
ClientLimiterClass = Callable[..., ClientLimiter]

TOLERANCE = CLOCK_RESOLUTION  # seconds: the virtual clock ticks in microseconds

FIFO_HINT = (
    "serve waiters first come, first served: an asyncio.Lock held while a waiter sleeps for its tokens "
    "does it (its waiters are woken in order), so does a deque of futures that only the head may leave"
)
SPIN_HINT = (
    "a waiter must wake up by itself, at the instant its tokens (or its slot) are there: "
    "await asyncio.sleep(seconds until then). A loop that sleeps 0 s (or a few 1e-17 s) never lets the "
    "virtual clock move"
)
CANCEL_HINT = "let CancelledError propagate out of acquire() (clean up in a finally, or re-raise it)"


LOCK_HINT = (
    "a waiter cancelled while it held the lock never released it, so everyone behind it waits for ever: "
    "take the lock with `async with self._lock:` (or release it in a finally), never acquire() ... release() "
    "with an await in between"
)


def hang_hint(run: VirtualRun[object]) -> str:
    """What hangs a limiter run: a lock no one will release (a cancelled holder), or a waiter that never
    wakes by itself."""
    return LOCK_HINT if any("to acquire a Lock" in task.describe() for task in run.stuck) else SPIN_HINT


def run_limiter(chain: Chain, main: Callable[[], Awaitable[T]], deadline: float, what: str = "the scenario") -> T:
    """``main``'s value, run with :func:`limiter_run`."""
    return cast(T, limiter_run(chain, main, deadline, what).value)


def limiter_run(
    chain: Chain, main: Callable[[], Awaitable[T]], deadline: float, what: str = "the scenario"
) -> VirtualRun[T]:
    """``main`` run on the virtual clock with this chapter's hints (the kit's :func:`run_scenario`, with the
    hang's hint chosen from what the stuck tasks wait for): the run, for its value and events."""
    run: VirtualRun[T] = run_virtual(main, deadline=deadline)
    require_a_clean_run(chain, cast(VirtualRun[object], run), what)
    return run


def require_a_clean_run(chain: Chain, run: VirtualRun[object], what: str) -> None:
    """``run`` never blocked the loop, finished and left no error unretrieved; else the chain fails."""
    if run.outcome == "blocked":
        chain.fail(
            f"{what} never blocks the event loop",
            observed=run.diagnosis,
            hint=SPIN_HINT + "; and never call time.sleep() or loop without an await",
        )
    chain.require_finished(run, what, hang_hint=hang_hint(run))
    chain.require(
        not run.unhandled,
        f"{what} leaves no error unretrieved",
        observed=lambda: "; ".join(run.unhandled),
        hint="a task your limiter starts must not fail unseen: await it, or cancel it when it is no longer needed",
    )


async def arrive(plan: Sequence[tuple[float, Callable[[], Awaitable[object]], int]]) -> list[Timed]:
    """Each (arrival, call, amount) of ``plan``, in order, as a task started at its arrival time (tasks of
    one instant start in the plan's order); request numbers count from 1."""
    tasks = []
    for number, (when, call, amount) in enumerate(plan, 1):
        await sleep_until(when)
        tasks.append(asyncio.create_task(timed_acquire(call, number, amount)))
    return list(await asyncio.gather(*tasks))


AT_CAPACITY_HINT = (
    "raise ValueError only when amount > capacity: a full bucket holds exactly capacity tokens, so a request "
    "for capacity tokens (or fewer) can pass (`amount > capacity`, not `>=`)"
)


def every_request_passes_without_raising(chain: Chain, timed: Sequence[Timed], what: str) -> None:
    for request in timed:
        if request.error is not None:
            at_capacity = isinstance(request.error, ValueError)  # every amount here is at most capacity
            chain.fail(
                f"{what}: every request passes without raising",
                observed=f"request {request.number} (amount {request.amount}, asked at t={request.asked:g}) raised "
                f"{describe_error(request.error)}",
                hint=AT_CAPACITY_HINT
                if at_capacity
                else "acquire() returns when the request has been let through; it raises only ValueError "
                "for an amount the limiter can never grant",
            )


def _t(value: float) -> str:
    return f"{round(value, 6):g}"


# ----------------------------------------------------------------------------- models


def bucket_schedule(requests: Sequence[tuple[float, int]], rate: float, capacity: int) -> list[float]:
    """When each (arrival, amount) request passes a full bucket served first come, first served."""
    tokens, updated, previous, times = float(capacity), None, -math.inf, []
    for arrival, amount in requests:
        now = max(arrival, previous)
        if updated is not None:
            tokens = min(capacity, tokens + (now - updated) * rate)
        if tokens < amount:
            now += (amount - tokens) / rate
            tokens = float(amount)
        tokens -= amount
        updated = previous = now
        times.append(now)
    return times


def bucket_schedule_cancelled(
    requests: Sequence[tuple[float, int]], rate: float, capacity: int, b: int, at: float
) -> tuple[bool, list[float]]:
    """As :func:`bucket_schedule`, with request ``b`` cancelled at ``at``: whether it passed first (its
    tokens there by ``at``), and when the others pass. A cancelled one takes nothing; the ones behind it,
    held up until ``at``, pass from then on as if it had never asked."""
    with_b = bucket_schedule(requests, rate, capacity)
    if with_b[b] <= at:
        return True, with_b[:b] + with_b[b + 1 :]
    tokens, updated, previous, times = float(capacity), None, -math.inf, []
    for number, (arrival, amount) in enumerate(requests):
        if number == b:
            previous = max(previous, at)  # it held the head of the queue until then
            continue
        now = max(arrival, previous)
        if updated is not None:
            tokens = min(capacity, tokens + (now - updated) * rate)
        if tokens < amount:
            now += (amount - tokens) / rate
            tokens = float(amount)
        tokens -= amount
        updated = previous = now
        times.append(now)
    return False, times


def log_schedule_cancelled(
    arrivals: Sequence[float], limit: int, window: float, b: int, at: float
) -> tuple[bool, list[float]]:
    """As :func:`log_schedule`, with request ``b`` cancelled at ``at``: whether it passed first, and when
    the others pass (the ones behind it held up until ``at`` at most)."""
    with_b = log_schedule(arrivals, limit, window)
    if with_b[b] <= at:
        return True, with_b[:b] + with_b[b + 1 :]
    times: list[float] = []
    for number, arrival in enumerate(arrivals):
        if number == b:
            continue
        when = max(arrival, times[-1] if times else -math.inf, at if number > b else -math.inf)
        if len(times) >= limit:
            when = max(when, times[len(times) - limit] + window)
        times.append(when)
    return False, times


def log_schedule(arrivals: Sequence[float], limit: int, window: float) -> list[float]:
    """When each request passes a sliding log served first come, first served."""
    times: list[float] = []
    for number, arrival in enumerate(arrivals):
        when = max(arrival, times[-1] if times else -math.inf)
        if number >= limit:
            when = max(when, times[number - limit] + window)
        times.append(when)
    return times


def worst_bucket_window(passed: Sequence[tuple[float, int]], rate: float, capacity: int) -> tuple[float, float, int]:
    """(a, b, tokens): the interval [a, b] that holds the most tokens beyond ``capacity + rate * (b - a)``."""
    passed = sorted(passed)
    worst = (0.0, 0.0, 0)
    excess = -math.inf
    for i, (a, _) in enumerate(passed):
        total = 0
        for b, amount in passed[i:]:
            total += amount
            over = total - capacity - rate * (b - a)
            if over > excess:
                excess, worst = over, (a, b, total)
    return worst


PHRASES = {
    "tokens": ("its tokens are there", "its tokens were there at"),
    "slot": ("a slot is free", "a slot was free for it at"),
}


def each_request_passes_on_time(
    chain: Chain, timed: Sequence[Timed], expected: Sequence[float], what: str, *, unit: str = "tokens"
) -> None:
    """Each request passed at the instant the model says; the first that did not is reported."""
    ready, was_ready = PHRASES[unit]
    prop = f"{what}: each request passes at the instant {ready}, first come, first served"
    for request, when in zip(timed, expected, strict=True):
        if request.admitted is not None and abs(request.admitted - when) <= TOLERANCE:
            continue
        early = request.admitted is not None and request.admitted < when
        passed = "never passed" if request.admitted is None else f"passed at t={_t(request.admitted)}"
        chain.fail(
            prop,
            observed=f"request {request.number} (amount {request.amount}, asked at t={_t(request.asked)}) {passed}; "
            f"{was_ready} t={_t(when)}",
            hint=(
                "it passed early: a request may not pass ahead of an earlier one still waiting. " + FIFO_HINT
                if early
                else f"it waited too long: wake it at the instant {ready} (sleep exactly until then, no polling "
                "tick), let a cancelled waiter take nothing"
                + (", and keep the fraction of a token in the refill (no int() or floor)" if unit == "tokens" else "")
            ),
        )
    chain.passed(prop)


def requests_pass_in_the_order_asked(chain: Chain, timed: Sequence[Timed], prop: str, *, hint: str) -> None:
    """``prop``: the requests were admitted in the order of their numbers (never admitted: last)."""
    order = sorted(timed, key=lambda r: (r.admitted if r.admitted is not None else math.inf, r.number))
    chain.require(
        [r.number for r in order] == [r.number for r in timed],
        prop,
        observed="they passed in the order " + ", ".join(str(r.number) for r in order),
        hint=hint,
    )


def cancelled_calls_end_cancelled(chain: Chain, cancelled: Sequence[bool], what: str, *, observed: str) -> None:
    chain.require(
        all(cancelled),
        f"{what}: the cancelled acquire() calls end cancelled",
        observed=observed,
        hint=CANCEL_HINT,
    )


# ----------------------------------------------------------------------------- TokenBucket


def bucket_run(
    chain: Chain, bucket_class: BucketClass, rate: float, capacity: int, plan: Sequence[tuple[float, int]], what: str
) -> list[Timed]:
    """Each (arrival, amount) of ``plan`` asks one bucket for ``amount`` tokens, in its own task."""
    bucket = make(chain, bucket_class, "TokenBucket", rate=rate, capacity=capacity)

    async def main() -> list[Timed]:
        return await arrive([(when, functools.partial(bucket.acquire, amount), amount) for when, amount in plan])

    last = max((when for when, _ in plan), default=0.0)
    return run_limiter(chain, main, last + sum(a for _, a in plan) / rate + 60, what)


def passed_at(timed: Sequence[Timed], instant: float) -> int:
    """How many of ``timed`` passed by ``instant``."""
    return sum(1 for request in timed if request.admitted is not None and request.admitted <= instant + TOLERANCE)


@learner_facing
def check_bucket_burst(
    bucket_class: BucketClass, *, rate: float = 4.0, capacity: int = 5, extra: int = 3, start: float = 2.5
) -> None:
    """``capacity + extra`` requests of 1 token at ``start``, from idle: exactly ``capacity`` pass at
    ``start``; the others one every ``1 / rate`` seconds after it."""
    chain = Chain("TokenBucket")
    plan = [(start, 1)] * (capacity + extra)
    what = f"{capacity + extra} requests at t={_t(start)}"
    timed = bucket_run(chain, bucket_class, rate, capacity, plan, what)
    every_request_passes_without_raising(chain, timed, what)
    exactly_capacity_pass_at_once_from_idle(chain, passed_at(timed, start), capacity, start, what)
    each_request_passes_on_time(chain, timed, bucket_schedule(plan, rate, capacity), what)


def exactly_capacity_pass_at_once_from_idle(chain: Chain, at_once: int, capacity: int, start: float, what: str) -> None:
    chain.require(
        at_once <= capacity,
        f"{what}: at most capacity={capacity} pass at once",
        observed=f"{at_once} passed at t={_t(start)}",
        hint="take a token per request, and let a request that finds too few tokens wait; "
        "document 001's bucket answers False and its callers poll, document 004's wait_and_acquire "
        "ignores the second acquire()'s answer",
    )
    chain.require(
        at_once == capacity,
        f"{what}: from idle, exactly capacity={capacity} pass at once (the bucket starts full)",
        observed=f"{at_once} passed at t={_t(start)}",
        hint="the bucket starts full, whenever the first request comes: count the refill from the first "
        "acquire(), not from t = 0 (the clock does not start at 0 here) nor from an empty bucket",
    )


@learner_facing
def check_bucket_rate(
    bucket_class: BucketClass, *, rate: float = 8.0, capacity: int = 8, requests: int = 40, start: float = 1.25
) -> None:
    """``requests`` requests of 1 token together at ``start`` (document 004's scenario: 50 at 10/s);
    in any interval of T seconds at most ``capacity + rate * T`` pass, the last at ``start + (requests -
    capacity) / rate``. Then, after an idle spell long enough to refill the bucket four times,
    ``capacity + 2`` together: exactly ``capacity`` pass at once (a bucket never holds more). Last, when
    half a token has accrued in the emptied bucket, one more: it passes when the other half has (a fraction
    of a token counts)."""
    chain = Chain("TokenBucket")
    idle = start + max(0, requests - capacity) / rate + 4 * capacity / rate
    emptied = idle + 2 / rate  # the last of the capacity + 2 passes: the bucket is empty
    plan = [(start, 1)] * requests + [(idle, 1)] * (capacity + 2) + [(emptied + 0.5 / rate, 1)]
    what = f"{requests} requests at t={_t(start)}, then {capacity + 2} at t={_t(idle)}"
    timed = bucket_run(chain, bucket_class, rate, capacity, plan, what)
    every_request_passes_without_raising(chain, timed, what)
    at_most_capacity_plus_rate_times_t_pass(chain, timed, rate, capacity, idle, what)
    exactly_capacity_pass_after_the_idle_spell(chain, passed_at(timed[requests:], idle), capacity, idle, what)
    expected = bucket_schedule(plan, rate, capacity)
    each_request_passes_on_time(chain, timed[:-1], expected[:-1], what)
    a_fraction_of_a_token_counts(chain, timed[-1], expected[-1], emptied, what)


def a_fraction_of_a_token_counts(chain: Chain, last: Timed, expected: float, emptied: float, what: str) -> None:
    chain.require(
        last.admitted is not None and abs(last.admitted - expected) <= TOLERANCE,
        f"{what}; the bucket empty at t={_t(emptied)}, one more request at t={_t(last.asked)}, when half a "
        f"token has accrued: it passes at t={_t(expected)}, when the other half has (tokens accrue continuously)",
        observed=f"it passed at t={_t(last.admitted)}" if last.admitted is not None else "it never passed",
        hint="keep the fraction of a token: tokens += elapsed * rate as a float, with no int(), //, round() or "
        "math.floor (a refill rounded down to whole tokens, with the clock of the refill moved to now, throws "
        "the half token away); or, counting whole tokens, move the refill's clock on only by the time they took",
    )


def at_most_capacity_plus_rate_times_t_pass(
    chain: Chain, timed: Sequence[Timed], rate: float, capacity: int, idle: float, what: str
) -> None:
    passed = [(r.admitted, r.amount) for r in timed if r.admitted is not None]
    a, b, total = worst_bucket_window(passed, rate, capacity)
    allowed = capacity + rate * (b - a)
    chain.require(
        total <= allowed + TOLERANCE,
        f"{what}: in any interval of T seconds, at most capacity + rate * T = {capacity} + {_t(rate)} * T pass",
        observed=f"{total} passed between t={_t(a)} and t={_t(b)}, where at most {_t(allowed)} may"
        if b > a
        else f"{total} passed at once at t={_t(a)}, where at most {capacity} may",
        hint="after a waiter has slept, it must find its tokens there and take them (check again, or hold "
        "the lock while it sleeps so nobody else takes them): document 004's wait_and_acquire sleeps, then "
        "ignores the second acquire()'s answer, and document 002's limiter lets every sleeper through together"
        if b > a or a != idle
        else "tokens accrue at rate a second but never beyond capacity: min(capacity, tokens + elapsed * rate)",
    )


def exactly_capacity_pass_after_the_idle_spell(
    chain: Chain, at_once: int, capacity: int, idle: float, what: str
) -> None:
    chain.require(
        at_once == capacity,
        f"{what}: after the idle spell, exactly capacity={capacity} of the {capacity + 2} pass at once",
        observed=f"{at_once} passed at t={_t(idle)}",
        hint="tokens accrue at rate per second but never beyond capacity: min(capacity, tokens + elapsed * rate)"
        if at_once > capacity
        else "tokens accrue while nobody asks: refill from the time of the last update, however long ago",
    )


@learner_facing
def check_bucket_amounts(
    bucket_class: BucketClass, *, rate: float = 2.0, capacity: int = 4, start: float = 0.5
) -> None:
    """At ``start``: ``acquire(capacity + 1)`` raises ValueError at once and takes nothing; then, together,
    ``acquire(capacity)``, ``acquire(3)``, ``acquire(1)``, ``acquire(2)``: each passes when its amount has
    accrued, in that order. Last, when half a token has accrued in the emptied bucket, ``acquire()``: it
    passes when the other half has."""
    chain = Chain("TokenBucket")
    bucket = make(chain, bucket_class, "TokenBucket", rate=rate, capacity=capacity)
    amounts = [capacity, 3, 1, 2]
    expected = bucket_schedule([(start, amount) for amount in amounts], rate, capacity)

    async def main() -> tuple[Timed, list[Timed], Timed]:
        await sleep_until(start)
        too_much = await timed_acquire(lambda: bucket.acquire(capacity + 1), 0, capacity + 1)
        tasks = [
            asyncio.create_task(timed_acquire(functools.partial(bucket.acquire, amount), number, amount))
            for number, amount in enumerate(amounts, 1)
        ]
        timed = list(await asyncio.gather(*tasks))
        await sleep_until(expected[-1] + 0.5 / rate)
        return too_much, timed, await timed_acquire(bucket.acquire, len(amounts) + 1)

    too_much, timed, late = run_limiter(chain, main, start + 60 + 2 / rate)
    more_than_capacity_is_a_value_error_at_once(chain, too_much, capacity)
    what = f"then acquire({capacity}), acquire(3), acquire(1), acquire(2) together at t={_t(start)}"
    every_request_passes_without_raising(chain, [*timed, late], what)
    each_request_passes_on_time(chain, timed, expected, f"acquire({capacity + 1}) raised; {what}")
    a_fraction_of_a_token_counts(chain, late, expected[-1] + 1 / rate, expected[-1], what)


def more_than_capacity_is_a_value_error_at_once(chain: Chain, too_much: Timed, capacity: int) -> None:
    chain.require(
        isinstance(too_much.error, ValueError),
        f"acquire({capacity + 1}) with capacity={capacity} raises ValueError",
        observed="it " + (f"raised {describe_error(too_much.error)}" if too_much.error else "returned"),
        hint="a request for more than capacity tokens can never be served (the bucket never holds that "
        "many): raise ValueError before waiting",
    )
    chain.require(
        too_much.ended == too_much.asked,
        f"acquire({capacity + 1}) raises at once",
        observed=f"it was asked at t={_t(too_much.asked)} and raised at t={_t(too_much.ended or 0.0)}",
        hint="check the amount first, before taking the lock or sleeping",
    )


@learner_facing
def check_bucket_fifo(bucket_class: BucketClass, *, rate: float = 4.0, capacity: int = 4, start: float = 3.0) -> None:
    """At ``start`` ``acquire(capacity)`` empties the bucket; 1/64 s later ``acquire(capacity)`` waits for a
    full bucket; 1/64 s after that, ``acquire(2)`` three times queues behind it. Then, three times, each at
    an instant when one token is there but the head of the queue needs two, ``acquire(1)``. All pass in the
    order they were asked (first come, first served), each when its tokens are there."""
    chain = Chain("TokenBucket")
    step, tick = 1 / 64, 1 / rate
    plan = [(start, capacity), (start + step, capacity)]
    plan += [(start + 2 * step + k / 256, 2) for k in range(3)]
    plan += [(start + (capacity + later) * tick, 1) for later in (1, 3, 5)]
    what = (
        f"acquire({capacity}) at t={_t(start)}, acquire({capacity}) just after, acquire(2) three times just after "
        f"that, then acquire(1) at t={_t(plan[5][0])}, t={_t(plan[6][0])} and t={_t(plan[7][0])}"
    )
    timed = bucket_run(chain, bucket_class, rate, capacity, plan, what)
    every_request_passes_without_raising(chain, timed, what)
    requests_pass_in_the_order_asked(
        chain,
        timed,
        f"{what}: requests pass in the order they were asked (first come, first served)",
        hint="a small request that arrives later must not pass a big one still waiting: " + FIFO_HINT,
    )
    each_request_passes_on_time(chain, timed, bucket_schedule(plan, rate, capacity), what)


@learner_facing
def check_bucket_cancel(
    bucket_class: BucketClass,
    *,
    rate: float = 2.0,
    capacity: int = 2,
    start: float = 1.5,
    sweep: bool = False,
    amount: int = 2,
) -> None:
    """At ``start``: ``capacity`` requests pass, then waiters A, B, C, D queue. B (waiting behind A) is
    cancelled after 1/4 s, A (first in line) 1/8 s later: their tokens go to C and D, at the instants they
    would have had them had A and B never asked; each cancelled call ends cancelled. With ``sweep``, the
    cancellation sweep of :func:`bucket_cancel_sweep` instead (B asks ``amount`` tokens)."""
    if sweep:
        bucket_cancel_sweep(bucket_class, rate=rate, capacity=capacity, start=start, amount=amount)
        return
    chain = Chain("TokenBucket")
    bucket = make(chain, bucket_class, "TokenBucket", rate=rate, capacity=capacity)

    async def main() -> tuple[list[Timed], list[bool]]:
        await sleep_until(start)
        first = [asyncio.create_task(timed_acquire(bucket.acquire, n)) for n in range(1, capacity + 1)]
        waiters = [asyncio.create_task(timed_acquire(bucket.acquire, n)) for n in range(capacity + 1, capacity + 5)]
        await asyncio.sleep(0.25)
        waiters[1].cancel()
        await asyncio.sleep(0.125)
        waiters[0].cancel()
        done = await asyncio.gather(*first, *waiters, return_exceptions=True)
        timed = [r for r in done if isinstance(r, Timed)]
        return timed, [waiters[0].cancelled(), waiters[1].cancelled()]

    timed, cancelled = run_limiter(chain, main, start + 60)
    what = (
        f"{capacity} requests at t={_t(start)}, then waiters A, B, C, D; B cancelled at t={_t(start + 0.25)}, "
        f"A at t={_t(start + 0.375)}"
    )
    cancelled_calls_end_cancelled(
        chain,
        cancelled,
        what,
        observed=f"A {'was' if cancelled[0] else 'was not'} cancelled, B {'was' if cancelled[1] else 'was not'}",
    )
    every_request_passes_without_raising(chain, timed, what)
    plan = [(start, 1)] * capacity + [(start, 1)] * 2
    each_request_passes_on_time(chain, timed, bucket_schedule(plan, rate, capacity), what)


# ----------------------------------------------------------------------------- cancellation sweeps


def sweep_plan(start: float, first: int, amount: int) -> list[tuple[float, int]]:
    """``first`` requests of 1 at ``start``, then waiters A (1), B (``amount``), C (1), 1/64 s apart."""
    return [(start, 1)] * first + [(start + 1 / 64, 1), (start + 2 / 64, amount), (start + 3 / 64, 1)]


async def swept_run(
    plan: Sequence[tuple[float, int]], call: Callable[[int], Awaitable[object]], at: float
) -> tuple[Outcome, list[Timed]]:
    """The requests of ``plan`` (the one before last is B), B cancelled at ``at`` with the kit's
    :func:`cancelled_at` (:data:`UNCANCELLED`: never): B's :class:`Outcome` and the others."""
    b_number = len(plan) - 1
    tasks: list[asyncio.Task[Timed]] = []
    b_task: asyncio.Task[Outcome] | None = None
    for number, (when, amount) in enumerate(plan, 1):
        await sleep_until(when)
        request = functools.partial(timed_acquire, functools.partial(call, amount), number, amount)
        if number == b_number:
            b_task = asyncio.create_task(cancelled_at(request, at))
        else:
            tasks.append(asyncio.create_task(request()))
    others = list(await asyncio.gather(*tasks))
    assert b_task is not None
    return await b_task, others


def swept_limiter_run(
    chain: Chain, main: Callable[[], Awaitable[Outcome]], deadline: float, at: float
) -> VirtualRun[Outcome]:
    """One run of a sweep, B cancelled at ``at``: one that returned with nothing left unretrieved passes
    silently (the kit's sweep prints one ✓ line for them all); any other fails as :func:`limiter_run` does."""
    run = run_virtual(main, deadline=deadline)
    if run.outcome != "returned" or run.unhandled:
        what = "the sweep's run" if at == UNCANCELLED else f"B cancelled at t={_t(at)}"
        require_a_clean_run(chain, cast(VirtualRun[object], run), what)
    return run


B_CANCEL_HINT = CANCEL_HINT + "; a cancelled waiter takes nothing and does not return as if it had passed"


def b_cancelled_at_each_wait(
    chain: Chain,
    what: str,
    scenario: Callable[[float], VirtualRun[Outcome]],
    plan: Sequence[tuple[float, object]],
    with_b: Sequence[float],
) -> list[Swept]:
    """The sweep both limiters share: ``scenario`` run with waiter B (the plan's next to last) cancelled at
    each instant of its wait (from when it asks until ``with_b[-2]``), and B ending cancelled each time."""
    swept = cancellation_sweep(
        chain,
        f"{what}: B's acquire()",
        scenario,
        instants=functools.partial(sweep_instants, start=plan[-2][0], until=with_b[-2]),
    )
    ends_cancelled_at_each_wait(chain, f"{what}: B's acquire()", swept, hint=B_CANCEL_HINT)
    return swept


def bucket_cancel_sweep(bucket_class: BucketClass, *, rate: float, capacity: int, start: float, amount: int) -> None:
    """:func:`check_bucket_cancel` with ``sweep=True``, a cancellation sweep (the kit's
    :func:`cancellation_sweep`): ``capacity`` requests at ``start`` empty the bucket, then waiters A
    (1 token), B (``amount``) and C (1) queue, 1/64 s apart. B is cancelled as it asks, then at each of
    its waits until its turn, one new bucket per instant: it ends with CancelledError, takes nothing and
    delays nobody (A and C pass as if it had never asked); once the bucket has refilled, ``acquire()``
    passes at once."""
    chain = Chain("TokenBucket")
    plan = sweep_plan(start, capacity, amount)
    with_b = bucket_schedule(plan, rate, capacity)
    quiet = max(with_b) + 2 * capacity / rate
    seen: dict[float, tuple[list[Timed], Outcome]] = {}  # at: the others, and acquire() once all is quiet

    def scenario(at: float) -> VirtualRun[Outcome]:
        bucket = make(chain, bucket_class, "TokenBucket", rate=rate, capacity=capacity)

        async def main() -> Outcome:
            b, others = await swept_run(plan, bucket.acquire, at)
            await sleep_until(quiet)
            seen[at] = others, await timed_call(bucket.acquire(), catch=BaseException)
            return b

        return swept_limiter_run(chain, main, quiet + 60, at)

    what = f"{capacity} requests at t={_t(start)}, then waiters A, B (amount {amount}), C 1/64 s apart"
    swept = b_cancelled_at_each_wait(chain, what, scenario, plan, with_b)
    for one in swept:
        others, after = seen[one.at]
        cut = f"{what}; B cancelled at t={_t(one.at)}"
        every_request_passes_without_raising(chain, others, cut)
        _, expected = bucket_schedule_cancelled(plan, rate, capacity, len(plan) - 2, one.at)
        each_request_passes_on_time(chain, others, expected, cut)
        chain.require(
            after.error is None and after.ended == after.asked,
            f"{cut}: once all is quiet and the bucket full again, acquire() at t={_t(quiet)} passes at once",
            observed=f"it {answered(after)}",
            hint="a cancelled waiter must leave no trace: undo what it counted (a waiter count, a reservation, "
            "its place in the queue) in a finally, so that the next request finds an idle bucket",
        )
    chain.passed(f"B cancelled at each of the {len(swept)} instants")


# ----------------------------------------------------------------------------- SlidingLogLimiter


def log_run(
    chain: Chain, limiter_class: LogLimiterClass, limit: int, window: float, arrivals: Sequence[float], what: str
) -> list[Timed]:
    """One request to a new limiter at each of ``arrivals``, each in its own task."""
    limiter = make(chain, limiter_class, "SlidingLogLimiter", limit=limit, window=window)

    async def main() -> list[Timed]:
        return await arrive([(when, limiter.acquire, 1) for when in arrivals])

    return run_limiter(chain, main, max(arrivals, default=0.0) + len(arrivals) * window + 60, what)


@learner_facing
def check_log_limit(
    limiter_class: LogLimiterClass, *, limit: int = 3, window: float = 1.0, start: float = 0.75, burst: int = 7
) -> None:
    """One request at ``start``, then ``burst`` together ``window / 8`` before ``start + window``: a fixed
    window would let ``2 * limit - 1`` through within ``window / 8`` of the boundary; a sliding log never
    more than ``limit`` in any ``window`` seconds, each waiter passing when the oldest admission leaves."""
    chain = Chain("SlidingLogLimiter")
    late = start + window - window / 8
    arrivals = [start] + [late] * burst
    what = f"1 request at t={_t(start)}, then {burst} at t={_t(late)}"
    timed = log_run(chain, limiter_class, limit, window, arrivals, what)
    every_request_passes_without_raising(chain, timed, what)
    at_most_limit_pass_in_any_window(chain, timed, limit, window, what)
    each_request_passes_on_time(chain, timed, log_schedule(arrivals, limit, window), what, unit="slot")


def at_most_limit_pass_in_any_window(
    chain: Chain, timed: Sequence[Timed], limit: int, window: float, what: str
) -> None:
    busiest = busiest_window([r.admitted for r in timed if r.admitted is not None], window)
    chain.require(
        busiest.count <= limit,
        f"{what}: at most limit={limit} pass in any {_t(window)} s",
        observed=f"{busiest.count} passed from t={_t(busiest.first)} to t={_t(busiest.last)}",
        hint="an admission counts from the instant the request passes: log loop.time() read after the wait, "
        "not the instant it called acquire() (a waiter logged at its call leaves the window early)"
        if logged_at_call(timed, limit, window)
        else "a counter reset at fixed instants lets 2 * limit through around the reset; keep the times of "
        "the admissions of the last window seconds and count those (an admission at s counts until s + window)",
    )


def logged_at_call(timed: Sequence[Timed], limit: int, window: float) -> bool:
    """Whether the requests passed as a sliding log of the instants they *called* ``acquire()`` (instead of
    the instants they passed) would let them, first come, first served."""
    log: list[float] = []  # the calls' instants, as such a log holds them
    when = -math.inf
    for request in timed:
        when = max(request.asked, when)
        while True:
            log = [called for called in log if called + window > when]
            if len(log) < limit:
                break
            when = log[0] + window
        if request.admitted is None or abs(request.admitted - when) > TOLERANCE:
            return False
        log.append(request.asked)
    return True


@learner_facing
def check_log_waiting(
    limiter_class: LogLimiterClass, *, limit: int = 2, window: float = 0.5, start: float = 2.0, sweep: bool = False
) -> None:
    """At ``start``, ``limit + 4`` requests together: they pass in order, ``limit`` per window. Then the
    same with the second and third waiters cancelled before their turn: the others pass as if these had
    never asked. With ``sweep``, the cancellation sweep of :func:`log_cancel_sweep` instead."""
    if sweep:
        log_cancel_sweep(limiter_class, limit=limit, window=window, start=start)
        return
    chain = Chain("SlidingLogLimiter")
    arrivals = [start] * (limit + 4)
    what = f"{limit + 4} requests at t={_t(start)}"
    timed = log_run(chain, limiter_class, limit, window, arrivals, what)
    every_request_passes_without_raising(chain, timed, what)
    requests_pass_in_the_order_asked(
        chain, timed, f"{what}: they pass in the order they were asked (first come, first served)", hint=FIFO_HINT
    )
    each_request_passes_on_time(chain, timed, log_schedule(arrivals, limit, window), what, unit="slot")
    limiter = make(chain, limiter_class, "SlidingLogLimiter", limit=limit, window=window)

    async def cancelling() -> tuple[list[Timed], list[bool]]:
        await sleep_until(start)
        tasks = [asyncio.create_task(timed_acquire(limiter.acquire, n)) for n in range(1, limit + 5)]
        await asyncio.sleep(window / 4)
        tasks[limit + 1].cancel()
        tasks[limit].cancel()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        return [r for r in done if isinstance(r, Timed)], [tasks[limit].cancelled(), tasks[limit + 1].cancelled()]

    kept, cancelled = run_limiter(chain, cancelling, start + 60, "the run with cancelled waiters")
    what = (
        f"{limit + 4} requests at t={_t(start)}, waiters {limit + 1} and {limit + 2} cancelled at "
        f"t={_t(start + window / 4)}"
    )
    cancelled_calls_end_cancelled(chain, cancelled, what, observed=f"{sum(cancelled)} of the 2 ended cancelled")
    every_request_passes_without_raising(chain, kept, what)
    each_request_passes_on_time(chain, kept, log_schedule([start] * (limit + 2), limit, window), what, unit="slot")


def answered(outcome: Outcome) -> str:
    """``returned VALUE at t=..`` or ``raised ERROR at t=..``, times as the rest of this chapter shows them."""
    what = f"raised {describe_error(outcome.error)}" if outcome.error is not None else f"returned {outcome.value!r}"
    return f"{what} at t={_t(outcome.ended or 0.0)}"


async def _try(limiter: LogLimiter) -> Outcome:
    async def call() -> bool:  # called inside timed_call: a try_acquire that raises at once is recorded too
        return await limiter.try_acquire()

    return await timed_call(call())


async def _try_at(limiter: LogLimiter, when: float) -> Outcome:
    await sleep_until(when)
    return await _try(limiter)


@dataclass
class TryRun:
    """The answers of ``try_acquire()`` in :func:`check_log_try`'s scenario, and its two waiters."""

    burst: list[Outcome]
    before: Outcome
    at: Outcome
    during: Outcome
    probes: list[Outcome]
    waiters: list[Timed]
    final: Outcome


def try_scenario(
    chain: Chain, limiter: LogLimiter, limit: int, window: float, start: float, frees: list[float]
) -> TryRun:
    """A burst at ``start``, asks around ``start + window``, then two waiters (slots free up for them at
    ``frees``) with ``try_acquire()`` asked while they wait, and once more when they have passed."""

    async def main() -> TryRun:
        await sleep_until(start)
        burst = [await _try(limiter) for _ in range(limit + 1)]
        await sleep_until(start + window - 1 / 64)
        before = await _try(limiter)
        await sleep_until(start + window)
        at = await _try(limiter)
        for _ in range(limit - 1):  # the window is full again, and its slots free up one at a time
            await asyncio.sleep(1 / 64)
            await _try(limiter)
        await asyncio.sleep(1 / 64)
        # The probes' timers are set before the waiters': at the instant a slot frees up, they ask first.
        probes = [asyncio.create_task(_try_at(limiter, when)) for when in frees]
        await asyncio.sleep(0)
        waiters = [asyncio.create_task(timed_acquire(limiter.acquire, n)) for n in (1, 2)]
        await asyncio.sleep(1 / 64)
        during = await _try(limiter)
        probed, passed = [await probe for probe in probes], [await waiter for waiter in waiters]
        await sleep_until(frees[1] + window)  # every admission has left the window, nobody waits
        return TryRun(burst, before, at, during, probed, passed, await _try(limiter))

    return run_limiter(chain, main, start + 10 * window + 60)


@learner_facing
def check_log_try(limiter_class: LogLimiterClass, *, limit: int = 3, window: float = 2.0, start: float = 1.5) -> None:
    """``try_acquire()`` ``limit + 1`` times at ``start``: True ``limit`` times, then False, each at once;
    False again ``1/64`` s before ``start + window``, True at ``start + window``. Then, while a caller waits
    in ``acquire()``, and another behind it: False at once (it neither waits nor passes the waiters), also at
    the instants a slot frees up for each, and the waiters pass on time; once nobody waits and the window
    is empty, True again."""
    chain = Chain("SlidingLogLimiter")
    limiter = make(chain, limiter_class, "SlidingLogLimiter", limit=limit, window=window)
    frees = [start + 2 * window, start + 2 * window + 1 / 64 if limit > 1 else start + 3 * window]
    seen = try_scenario(chain, limiter, limit, window, start, frees)
    try_acquire_answers_a_burst_at_once(chain, seen, limit, start)
    an_admission_counts_for_window_seconds(chain, seen, limit, window, start)
    try_acquire_answers_false_at_once_while_callers_wait(chain, seen)
    try_acquire_does_not_pass_the_waiters(chain, seen, frees)
    try_acquire_admits_again_once_nobody_waits(chain, seen)


def try_acquire_answers_a_burst_at_once(chain: Chain, seen: TryRun, limit: int, start: float) -> None:
    for number, answer in enumerate(seen.burst, 1):
        expected = number <= limit
        chain.require(
            answer.value is expected and answer.ended == answer.asked,
            f"try_acquire() number {number} at t={_t(start)} returns {expected} at once",
            observed=f"it {answered(answer)}",
            hint=(
                "from idle, the first limit calls are admitted: append the time to the log and return True"
                if expected
                else "with limit admissions in the last window seconds, return False at once: never wait"
            ),
        )


def an_admission_counts_for_window_seconds(chain: Chain, seen: TryRun, limit: int, window: float, start: float) -> None:
    chain.require(
        seen.before.value is False,
        f"after {limit} admissions at t={_t(start)}, try_acquire() at t={_t(start + window - 1 / 64)} returns False",
        observed=f"it {answered(seen.before)}",
        hint="an admission at s counts until s + window: forget it only when now >= s + window",
    )
    chain.require(
        seen.at.value is True,
        f"try_acquire() at t={_t(start + window)}, when the admissions of t={_t(start)} leave the window, returns True",
        observed=f"it {answered(seen.at)}",
        hint="an admission at s stops counting at s + window exactly (now >= s + window, not >)",
    )


def try_acquire_answers_false_at_once_while_callers_wait(chain: Chain, seen: TryRun) -> None:
    during = seen.during
    what = f"two callers wait in acquire() from t={_t(seen.waiters[0].asked)}: try_acquire() at t={_t(during.asked)}"
    chain.require(
        during.ended == during.asked,
        f"{what} answers at once",
        observed=f"it {answered(during)}",
        hint="try_acquire() must never wait, not even for a lock that a sleeping waiter holds "
        "(document 004's sliding window sleeps while holding the lock is_allowed() needs)",
    )
    chain.require(
        during.value is False,
        f"{what} returns False",
        observed=f"it {answered(during)}",
        hint="the window is full: no slot is free",
    )


def try_acquire_does_not_pass_the_waiters(chain: Chain, seen: TryRun, frees: list[float]) -> None:
    waiting_from = _t(seen.waiters[0].asked)
    for number, (probe, waiter) in enumerate(zip(seen.probes, seen.waiters, strict=True), 1):
        which = "first" if number == 1 else "second"
        chain.require(
            probe.value is False,
            f"two callers wait in acquire() from t={waiting_from}: try_acquire() at t={_t(probe.asked)}, "
            f"the instant a slot frees up for the {which}, returns False: it does not pass the waiters",
            observed=f"it {answered(probe)}",
            hint="while someone waits in acquire(), a slot that frees up is theirs: count the waiters (up when "
            "one starts waiting, down when it passes or is cancelled) and answer False while there are any",
        )
        chain.require(
            waiter.admitted is not None and abs(waiter.admitted - frees[number - 1]) <= TOLERANCE,
            f"two callers wait in acquire() from t={waiting_from}: the {which} passes at "
            f"t={_t(frees[number - 1])}, when a slot frees up for it",
            observed=f"it passed at t={_t(waiter.admitted)}" if waiter.admitted is not None else "it never passed",
            hint="try_acquire() must not take a slot, nor delay a waiter",
        )


def try_acquire_admits_again_once_nobody_waits(chain: Chain, seen: TryRun) -> None:
    final = seen.final
    chain.require(
        final.value is True,
        f"both waiters passed; try_acquire() at t={_t(final.asked)}, nobody waiting and the window empty, returns True",
        observed=f"it {answered(final)}",
        hint="count a waiter down again when it passes or is cancelled (in a finally), so that the count is 0 "
        "when nobody waits",
    )


def log_cancel_sweep(limiter_class: LogLimiterClass, *, limit: int, window: float, start: float) -> None:
    """:func:`check_log_waiting` with ``sweep=True``, a cancellation sweep (the kit's
    :func:`cancellation_sweep`): ``limit`` requests at ``start`` fill the window, then waiters A, B, C queue,
    1/64 s apart. B is cancelled as it asks, then at each of its waits until its turn, one new limiter per
    instant: it ends with CancelledError, takes no slot and delays nobody; once every admission has left the
    window, ``acquire()`` passes at once, and once it has left too, ``try_acquire()`` returns True (nobody
    waits: the count of waiters is back to 0)."""
    chain = Chain("SlidingLogLimiter")
    plan = sweep_plan(start, limit, 1)
    arrivals = [when for when, _ in plan]
    with_b = log_schedule(arrivals, limit, window)
    quiet = max(with_b) + window
    seen: dict[float, tuple[list[Timed], Timed, Outcome]] = {}  # at: the others, acquire() and try_acquire() then

    def scenario(at: float) -> VirtualRun[Outcome]:
        limiter = make(chain, limiter_class, "SlidingLogLimiter", limit=limit, window=window)

        async def main() -> Outcome:
            b, others = await swept_run(plan, lambda _: limiter.acquire(), at)
            await sleep_until(quiet)
            then = await timed_acquire(limiter.acquire, len(plan) + 1)
            await sleep_until(quiet + window)
            seen[at] = others, then, await _try(limiter)
            return b

        return swept_limiter_run(chain, main, quiet + 60, at)

    what = f"{limit} requests at t={_t(start)}, then waiters A, B, C 1/64 s apart"
    swept = b_cancelled_at_each_wait(chain, what, scenario, plan, with_b)
    for one in swept:
        others, then, after = seen[one.at]
        cut = f"{what}; B cancelled at t={_t(one.at)}"
        every_request_passes_without_raising(chain, others, cut)
        _, expected = log_schedule_cancelled(arrivals, limit, window, len(plan) - 2, one.at)
        each_request_passes_on_time(chain, others, expected, cut, unit="slot")
        chain.require(
            then.admitted == then.asked,
            f"{cut}: once every admission has left the window, acquire() at t={_t(quiet)} passes at once",
            observed=f"it passed at t={_t(then.admitted)}" if then.admitted is not None else "it never passed",
            hint="a cancelled waiter must leave no trace: take it out of the queue in a finally",
        )
        chain.require(
            after.value is True and after.ended == after.asked,
            f"{cut}: once that admission has left the window too, nobody waiting, try_acquire() at "
            f"t={_t(quiet + window)} returns True at once",
            observed=f"it {answered(after)}",
            hint="a cancelled waiter must count itself out: decrement the count of waiters in a finally "
            "(try: ... finally: self.waiting -= 1), or it stays 'waiting' for ever and try_acquire() answers "
            "False for ever",
        )
    chain.passed(f"B cancelled at each of the {len(swept)} instants")


# ----------------------------------------------------------------------------- PerClientLimiter


@dataclass
class Asked:
    """One synchronous ``try_acquire`` call: who asked, how much, when, and its decision or error."""

    client: str
    amount: int
    time: float
    decision: object = None
    error: BaseException | None = None

    def describe(self) -> str:
        if self.error is not None:
            return f"raised {describe_error(self.error)}"
        return f"returned {self.decision!r}"


def _ask(limiter: ClientLimiter, client: str, amount: int = 1) -> Asked:
    asked = Asked(client, amount, asyncio.get_running_loop().time())
    try:
        asked.decision = limiter.try_acquire(client, amount) if amount != 1 else limiter.try_acquire(client)
    except Exception as error:  # noqa: BLE001  (reported)
        asked.error = error
    return asked


def _size(limiter: ClientLimiter) -> int | None:
    """``len(limiter)``, or None if it raised or is not an int."""
    try:
        size = len(limiter)
    except Exception:  # noqa: BLE001  (reported by the caller)
        return None
    return size if isinstance(size, int) else None


class BucketModel:
    """The statement's per-client buckets, one decision at a time."""

    def __init__(self, rate: float, capacity: int) -> None:
        self.rate, self.capacity = rate, capacity
        self.buckets: dict[str, tuple[float, float]] = {}

    def ask(self, client: str, amount: int, now: float) -> Decision:
        tokens, seen = self.buckets.get(client, (float(self.capacity), now))
        tokens = min(self.capacity, tokens + (now - seen) * self.rate)
        if tokens >= amount:
            self.buckets[client] = (tokens - amount, now)
            return Decision(True)
        self.buckets[client] = (tokens, now)
        return Decision(False, (amount - tokens) / self.rate)


def every_decision_is_the_statements(chain: Chain, log: Sequence[Asked], rate: float, capacity: int, what: str) -> None:
    """Each call of ``log``, in order, decided as :class:`BucketModel` does; one ✓ line for all."""
    model = BucketModel(rate, capacity)
    for asked in log:
        decision_is_the_statements(chain, asked, model.ask(asked.client, asked.amount, asked.time), what)
    chain.passed(f"{what}: every decision and retry_after is the statement's")


def decision_is_the_statements(chain: Chain, asked: Asked, expected: Decision, what: str) -> None:
    decision = asked.decision
    label = f"try_acquire({asked.client!r}{'' if asked.amount == 1 else f', {asked.amount}'}) at t={_t(asked.time)}"
    if asked.error is not None or not isinstance(decision, Decision):
        chain.fail(
            f"{what}: try_acquire returns a Decision",
            observed=f"{label} {asked.describe()}",
            hint=AT_CAPACITY_HINT.replace("a full bucket", "a client's full bucket")
            if isinstance(asked.error, ValueError)
            else "return Decision(True) when admitted, Decision(False, retry_after) when not (given, in "
            "coursekit.chapters.rate_limiting.given); never wait",
        )
    if decision.admitted != expected.admitted:
        chain.fail(
            f"{what}: each client has its own bucket of capacity tokens, refilled at rate a second",
            observed=f"{label} returned {decision!r}, "
            + ("although the client had its tokens" if expected.admitted else "although the client had used them up"),
            hint=(
                "a refused call takes no token, and a client's tokens accrue from its last call: "
                "min(capacity, tokens + elapsed * rate); clients do not share tokens"
                if expected.admitted
                else "keep each client's bucket until it is full again: a client forgotten (or reset) too early "
                "gets a fresh bucket and passes more than capacity + rate * T"
            ),
        )
    if not expected.admitted and not abs(decision.retry_after - expected.retry_after) <= TOLERANCE:
        chain.fail(
            f"{what}: a refusal's retry_after is the seconds until the same request would pass",
            observed=f"{label} returned retry_after={_t(decision.retry_after)}; the tokens are there in "
            f"{_t(expected.retry_after)} s",
            hint="retry_after = (amount - tokens) / rate, with tokens brought up to date now",
        )


@learner_facing
def check_per_client_limits(
    limiter_class: ClientLimiterClass, *, rate: float = 2.0, capacity: int = 3, start: float = 4.5, clients: int = 2
) -> None:
    """Client "c1" asks ``capacity + 2`` times at ``start``: ``capacity`` admitted, then refused with
    ``retry_after = 1 / rate`` (a refusal takes nothing); the other clients are admitted meanwhile. At
    ``start + 1 / rate`` "c1" passes once; ``try_acquire("c1", capacity + 1)`` raises ValueError; after
    ``capacity / rate`` s of quiet, ``try_acquire("c1", capacity)`` passes; ``0.75 / rate`` s later, asking
    2 tokens (1 if capacity is 1) is refused with the exact wait."""
    chain = Chain("PerClientLimiter")
    limiter = make(
        chain, limiter_class, "PerClientLimiter", rate=rate, capacity=capacity, idle_after=2 * capacity / rate
    )
    names = [f"c{n}" for n in range(1, clients + 1)]

    async def main() -> tuple[list[Asked], Asked]:
        await sleep_until(start)
        log = [_ask(limiter, "c1") for _ in range(capacity + 2)]
        log += [_ask(limiter, name) for name in names[1:]]
        await sleep_until(start + 1 / rate)
        log += [_ask(limiter, "c1"), _ask(limiter, "c1")]
        too_much = _ask(limiter, "c1", capacity + 1)
        await sleep_until(start + 1 / rate + capacity / rate)
        log.append(_ask(limiter, "c1", capacity))
        await asyncio.sleep(0.75 / rate)
        log.append(_ask(limiter, "c1", min(2, capacity)))
        return log, too_much

    log, too_much = run_limiter(chain, main, start + 60)
    every_decision_is_the_statements(chain, log, rate, capacity, f"{clients} client(s) from t={_t(start)}")
    chain.require(
        isinstance(too_much.error, ValueError),
        f"try_acquire('c1', {capacity + 1}) with capacity={capacity} raises ValueError",
        observed=f"it {too_much.describe()}",
        hint="a request for more than capacity tokens can never pass: raise ValueError",
    )


@learner_facing
def check_per_client_memory(
    limiter_class: ClientLimiterClass,
    *,
    clients: int = 2000,
    per_tick: int = 4,
    idle_after: float = 2.0,
    start: float = 0.5,
) -> None:
    """``clients`` distinct ids, ``per_tick`` new ones every 1/64 s, each asking once, while client "heavy"
    asks every 1/64 s (rate 4, capacity 8) and client "back" empties its bucket, then comes back after
    ``idle_after / 2`` s of quiet: every decision is the statement's, and after every call ``len(limiter)``
    is at most the number of distinct clients seen in the last ``2 * idle_after`` seconds."""
    chain = Chain("PerClientLimiter")
    rate, capacity = 4.0, 8
    limiter = make(chain, limiter_class, "PerClientLimiter", rate=rate, capacity=capacity, idle_after=idle_after)
    log, sizes = memory_scenario(
        chain, limiter, capacity, clients=clients, per_tick=per_tick, idle_after=idle_after, start=start
    )
    what = f"{clients} distinct clients, {per_tick} new every 1/64 s from t={_t(start)}"
    every_decision_is_the_statements(chain, log, rate, capacity, what)
    len_counts_only_the_recent_clients(chain, log, sizes, idle_after, what)


Size = tuple[float, int | None, str]  # (when, len(limiter) or None, the client that had just asked)


def memory_scenario(
    chain: Chain, limiter: ClientLimiter, capacity: int, *, clients: int, per_tick: int, idle_after: float, start: float
) -> tuple[list[Asked], list[Size]]:
    """Every 1/64 s from ``start``: "heavy" asks, then ``per_tick`` new clients; "back" empties its bucket
    at the first tick and comes back ``idle_after / 2`` s later. Every call, and ``len(limiter)`` after it."""
    tick = 1 / 64
    ticks = max(1, math.ceil(clients / per_tick))
    back_ticks = {0, round(idle_after / 2 / tick), round(idle_after / 2 / tick) + 4}

    async def main() -> tuple[list[Asked], list[Size]]:
        log: list[Asked] = []
        sizes: list[Size] = []
        for n in range(ticks):
            await sleep_until(start + n * tick)
            now = asyncio.get_running_loop().time()
            if n in back_ticks:
                log.extend(_ask(limiter, "back") for _ in range(capacity))
            log.append(_ask(limiter, "heavy"))
            sizes.append((now, _size(limiter), "heavy"))
            for k in range(n * per_tick, min(clients, (n + 1) * per_tick)):
                log.append(_ask(limiter, f"id-{k}"))
                sizes.append((now, _size(limiter), f"id-{k}"))
        return log, sizes

    return run_limiter(chain, main, start + ticks * tick + 60)


def len_counts_only_the_recent_clients(
    chain: Chain, log: Sequence[Asked], sizes: Sequence[Size], idle_after: float, what: str
) -> None:
    seen = sorted((a.time, a.client) for a in log)
    recent: dict[str, int] = {}  # the clients seen in (now - 2 * idle_after, now], with their calls
    enter = leave = 0
    for now, size, last in sizes:
        while enter < len(seen) and seen[enter][0] <= now:
            recent[seen[enter][1]] = recent.get(seen[enter][1], 0) + 1
            enter += 1
        while seen[leave][0] <= now - 2 * idle_after:
            recent[seen[leave][1]] -= 1
            if not recent[seen[leave][1]]:
                del recent[seen[leave][1]]
            leave += 1
        if size is None:
            chain.fail(
                f"{what}: len(limiter) is the number of clients tracked",
                observed=f"len(limiter) raised or is not an int (after try_acquire({last!r}))",
                hint="keep the given __len__, or return the number of clients you keep state for",
            )
        if size > len(recent):
            chain.fail(
                f"{what}: after each call, len(limiter) <= the clients seen in the last 2 * idle_after = "
                f"{_t(2 * idle_after)} s",
                observed=f"at t={_t(now)}, after try_acquire({last!r}), len(limiter) was {size}; "
                f"{len(recent)} distinct clients had called since t={_t(now - 2 * idle_after)}",
                hint="forget clients not seen for idle_after seconds (their buckets are full again, so nothing "
                "changes for them); document 004's per-client dict keeps every client for ever. Keep clients "
                "in order of their last call (an OrderedDict, move_to_end) to find the idle ones at once",
            )
    chain.passed(f"{what}: after each call, len(limiter) <= the clients seen in the last {_t(2 * idle_after)} s")
