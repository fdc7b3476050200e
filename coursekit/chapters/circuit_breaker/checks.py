"""Chapter 7 checks: the ``CircuitBreaker`` class, the ``protected`` decorator, ``fetch_item``.

The semantics are those of the chapter's statements and ``solutions/circuit_breaker.py``.

The breaker has one check per behaviour (trips, counts only ``counted``, rejects while
open, half-open limit, reopens, closes), so each can earn its own points. Each runs one
scenario on the virtual clock, starting at ``start`` (not 0, so code that assumes the
clock starts at 0, or reads the wall clock, shows up), and names it in every message with
its arguments. Calls go to a :class:`Upstream` stand-in that records when each call was
made. The breaker's transitions are read from its ``breaker.state`` events
(:func:`coursekit.analysis.breaker_transitions`).

``protected`` and ``fetch_item`` are checked with a :class:`SpyBreaker` (so a mistake in
the learner's ``CircuitBreaker`` does not cost these points twice) and, for ``fetch_item``,
the course's HTTP service in-process.

Each check is a scenario (a function that runs the learner's code and returns what it saw)
plus named properties, each a function of that observation with its own hints.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import httpx

from coursekit.chapters.circuit_breaker.analysis import breaker_transitions
from coursekit.chapters.circuit_breaker.given import BreakerState, CircuitOpenError, UpstreamError
from coursekit.checks import Chain, describe_error, learner_facing
from coursekit.events import Event, Kind, emit
from coursekit.scenario import (
    UNCANCELLED,
    Outcome,
    Spy,
    Swept,
    cancellation_sweep,
    cancelled_at,
    ends_cancelled_at_each_wait,
    make,
    run_scenario,
    sleep_until,
    sweep_instants,
    timed_call,
)
from coursekit.service import Faults, RateLimit, Service
from coursekit.virtual_time import VirtualRun, run_virtual

# --------------------------------------------------------------------- the learner's subjects


class Breaker(Protocol):
    """What ``protected`` and ``fetch_item`` use of a breaker: ``await breaker.call(func, *args, **kwargs)``."""

    async def call(self, func: Callable[..., Awaitable[Any]], /, *args: Any, **kwargs: Any) -> Any: ...


class CircuitBreakerLike(Breaker, Protocol):
    """The learner's ``CircuitBreaker`` (made with the given constructor's keywords): ``call`` and ``state``."""

    state: BreakerState


T = TypeVar("T")
AsyncFunction = Callable[..., Awaitable[Any]]
# protected(breaker) -> decorator, and fetch_item(client, breaker, n): ``...`` for the arguments, as the learner
# types the breaker as their own CircuitBreaker (the checks pass a SpyBreaker, a Breaker like it)
Protected = Callable[..., Callable[[AsyncFunction], AsyncFunction]]
FetchItem = Callable[..., Awaitable[Any]]

# --------------------------------------------------------------------- stand-ins and timed calls


class ServiceDown(Exception):
    """The error the checks' upstream raises when a call fails."""


class NotCounted(Exception):
    """An error the breaker is told not to count (e.g. a 404: the service answered)."""


@dataclass
class Upstream:
    """A service stand-in: ``make(fails, duration)`` is an async function of no arguments that
    takes ``duration`` seconds, then returns ``"ok"`` or raises ``error``; each call is recorded."""

    calls: list[float] = field(default_factory=list)

    def make(
        self, fails: bool = False, duration: float = 0.0, error: Exception | None = None
    ) -> Callable[[], Awaitable[str]]:
        async def service_call() -> str:
            self.calls.append(asyncio.get_running_loop().time())
            if duration:
                await asyncio.sleep(duration)
            if fails:
                raise error if error is not None else ServiceDown("the service is down")
            return "ok"

        return service_call

    def lookup(self) -> Callable[..., Awaitable[int]]:
        """An async function ``lookup(n, *, scale=1)`` that returns ``n * scale`` at once; each call is recorded."""

        async def lookup(n: int, *, scale: int = 1) -> int:
            self.calls.append(asyncio.get_running_loop().time())
            return n * scale

        return lookup


@dataclass
class BreakerCall(Outcome):
    """What one ``breaker.call`` did (an :class:`~coursekit.scenario.Outcome`), and whether the upstream
    was called (``made``)."""

    made: bool = False

    def describe(self, show: Callable[[Any], str] = repr) -> str:
        made = "the service was called" if self.made else "the service was not called"
        return f"{super().describe(show)} ({made})"


async def _call(breaker: Breaker, upstream: Upstream, func: AsyncFunction, *args: Any, **kwargs: Any) -> BreakerCall:
    """``breaker.call(func, *args, **kwargs)``, timed; ``made`` if ``upstream`` was called meanwhile."""
    before = len(upstream.calls)

    async def through_the_breaker() -> Any:  # a `call` that raises before it awaits is recorded too
        return await breaker.call(func, *args, **kwargs)

    outcome = await timed_call(through_the_breaker())
    return BreakerCall(outcome.asked, outcome.ended, outcome.value, outcome.error, made=len(upstream.calls) > before)


class NotOpened(Exception):
    """Raised by a scenario whose opening failures left the breaker in another state than OPEN."""

    def __init__(self, failures: int, last: BreakerCall, state: object) -> None:
        super().__init__(f"{failures} failures in a row left breaker.state {_state_name(state)}")
        self.failures, self.last, self.state = failures, last, state


async def _open_at(
    start: float, breaker: Breaker, upstream: Upstream, failures: int, spacing: float = 0.0, takes: float = 0.0
) -> float:
    """At ``start``, ``failures`` failing calls one after the other, ``spacing`` seconds apart, each taking
    ``takes`` seconds (they open it); the loop's time after the last. Raises :class:`NotOpened` if the breaker
    is not OPEN then (the scenario tests what comes after, and :func:`_scenario` reports why it could not)."""
    await asyncio.sleep(start)
    for number in range(failures):
        if number:
            await asyncio.sleep(spacing)
        last = await _call(breaker, upstream, upstream.make(fails=True, duration=takes))
    state = _state(breaker)
    if state is not BreakerState.OPEN:
        raise NotOpened(failures, last, state)
    return asyncio.get_running_loop().time()


def _scenario(chain: Chain, main: Callable[[], Awaitable[T]], deadline: float) -> VirtualRun[T]:
    """Run a breaker scenario (:func:`~coursekit.scenario.run_scenario`); first, if its opening failures did not
    open the breaker, fail with what opening takes: everything the scenario goes on to test needs it."""
    run: VirtualRun[T] = run_virtual(main, deadline=deadline)
    if isinstance(run.error, NotOpened):
        not_opened = run.error
        failures = not_opened.failures
        what = f"failure {failures} in a row (t={not_opened.last.asked:g}, failure_threshold={failures})"
        chain.fail(
            f"{what} opens the breaker: breaker.state is BreakerState.OPEN",
            observed=f"that call {not_opened.last.describe()}; then breaker.state is {_state_name(not_opened.state)}",
            hint=OPENS_AT_THE_THRESHOLD_HINT
            if isinstance(not_opened.state, BreakerState)
            else "use the given BreakerState enum for self.state, and change it with self._move_to(...)",
        )
    chain.require_finished(run, "the scenario", hang_hint=HANG_HINT)
    return run


async def _together(
    breaker: Breaker, upstream: Upstream, funcs: list[Callable[[], Awaitable[str]]]
) -> list[BreakerCall]:
    """A call of each of ``funcs`` through ``breaker``, all started at once."""
    tasks = [asyncio.create_task(_call(breaker, upstream, func)) for func in funcs]
    return list(await asyncio.gather(*tasks))


OPENS_AT_THE_THRESHOLD_HINT = (
    "open the breaker when the count of consecutive failures reaches failure_threshold (>=, not >), at the "
    "failure itself; count every error that is an instance of self.counted (isinstance(error, self.counted): "
    "subclasses too; by default every Exception)"
)
HANG_HINT = (
    "a breaker must never wait for a lock it already holds, nor hold one while the call runs: "
    "asyncio.Lock is not reentrant (document 001's breaker hangs on its first call this way)"
)


def _state(breaker: Breaker) -> object:
    return getattr(breaker, "state", None)


def _state_name(state: object) -> str:
    return state.name if isinstance(state, BreakerState) else repr(state)


CLOCK_HINT = (
    "measure on the loop's clock, asyncio.get_running_loop().time(): time.time() and time.monotonic() are "
    "other clocks, and do not move with the loop's (virtual) time"
)
AT_THE_DEADLINE_HINT = "at opened_at + recovery_timeout the wait is over: compare with >=, not >"


RESTARTED_HINT = (
    "a rejected call changes nothing: the timer runs from the failure that opened the breaker; don't restart it "
    "(opened_at) when you reject a call"
)


def _asked_at(breaker_class: type[CircuitBreakerLike], timeout: float, offsets: tuple[float, ...]) -> list[bool] | None:
    """Whether each call is rejected with CircuitOpenError, without being made, when a ``breaker_class``
    (threshold 1, ``timeout``) opened at t=1.25 is asked ``offsets`` after it opened; None if it cannot be told."""
    try:
        factory: Callable[..., CircuitBreakerLike] = breaker_class  # made with the constructor's keywords
        breaker = factory(failure_threshold=1, recovery_timeout=timeout)
    except Exception:  # noqa: BLE001  (the constructor's own check reports it)
        return None
    upstream = Upstream()

    async def main() -> list[bool]:
        opened = await _open_at(1.25, breaker, upstream, 1)
        rejected = []
        for offset in offsets:
            await sleep_until(opened + offset)
            call = await _call(breaker, upstream, upstream.make())
            rejected.append(not call.made and isinstance(call.error, CircuitOpenError))
        return rejected

    run = run_virtual(main, deadline=timeout + 60)
    return run.value if run.outcome == "returned" else None


def _why_no_trial(breaker_class: type[CircuitBreakerLike], timeout: float) -> str | None:
    """Why ``breaker_class`` rejected a call its recovery timeout should have let through, if its timer is the
    cause. A breaker opened is asked at the deadline, then 1 s after it: both rejected, it reads another clock;
    only the first, it compares with > where >= is stated. If the first is made, another is asked at half the
    timeout, then at the deadline: that one rejected, a rejection restarted the timer. None otherwise (the cause
    is elsewhere: the caller's own hint applies)."""
    at, after = _asked_at(breaker_class, timeout, (timeout, timeout + 1.0)) or (False, False)
    if at:
        return CLOCK_HINT if after else AT_THE_DEADLINE_HINT
    _, due = _asked_at(breaker_class, timeout, (timeout / 2, timeout)) or (False, False)
    return RESTARTED_HINT if due else None


CLOSE_AT_THE_LIMIT_HINT = "count the successful trials; when the count reaches half_open_max_calls (>=, not >), close"


CLOSES_AFTER_ONE_HINT = "close only after half_open_max_calls successful trials (document 002 closes after one)"


def _state_after_one_trial(breaker_class: type[CircuitBreakerLike], limit: int) -> object:
    """The state of a ``breaker_class`` (threshold 1, ``half_open_max_calls=limit``) after one successful trial;
    None if it cannot be told (the constructor or the scenario failed)."""
    try:
        factory: Callable[..., CircuitBreakerLike] = breaker_class  # made with the constructor's keywords
        breaker = factory(failure_threshold=1, recovery_timeout=1.0, half_open_max_calls=limit)
    except Exception:  # noqa: BLE001  (the constructor's own check reports it)
        return None
    upstream = Upstream()

    async def main() -> object:
        opened = await _open_at(1.25, breaker, upstream, 1)
        await sleep_until(opened + 1.0)
        await _call(breaker, upstream, upstream.make())
        return _state(breaker)

    run = run_virtual(main, deadline=60)
    return run.value if run.outcome == "returned" else None


def _closing_hint(breaker_class: type[CircuitBreakerLike]) -> str | None:
    """Why ``breaker_class`` closed too late or too soon, if its count of successful trials is the cause: with
    one trial slot, one successful trial leaves it half open (it closes one trial late, ``>``); with two, one
    successful trial closes it (document 002). None otherwise (the cause is elsewhere)."""
    if _state_after_one_trial(breaker_class, 1) is BreakerState.HALF_OPEN:
        return CLOSE_AT_THE_LIMIT_HINT
    if _state_after_one_trial(breaker_class, 2) is BreakerState.CLOSED:
        return CLOSES_AFTER_ONE_HINT
    return None


def _timer_hint(breaker_class: type[CircuitBreakerLike], timeout: float, outcome: BreakerCall, otherwise: str) -> str:
    """The hint for ``outcome``, a call that was due (the recovery timeout had passed) and did not go as it
    should: the timer's flaw if it was rejected because of one (:func:`_why_no_trial`), else ``otherwise``."""
    if outcome.made or not isinstance(outcome.error, CircuitOpenError):
        return otherwise
    return _why_no_trial(breaker_class, timeout) or otherwise


# --------------------------------------------------------------------- properties several checks share


def rejected_at_once_without_calling(chain: Chain, what: str, outcome: BreakerCall, *, wait_hint: str) -> None:
    """``what`` is rejected: the service is not called, CircuitOpenError is raised, at once."""
    chain.require(
        not outcome.made,
        f"{what} is rejected without calling the service",
        observed=f"the call {outcome.describe()}",
        hint=wait_hint,
    )
    chain.require(
        isinstance(outcome.error, CircuitOpenError),
        f"{what} raises CircuitOpenError",
        observed=f"the call {outcome.describe()}",
        hint="raise CircuitOpenError (given), never a bare Exception: a retry wrapper that retries every "
        "Exception would retry the rejection and hammer the service the breaker has just declared down",
    )
    chain.require(
        outcome.ended == outcome.asked,
        f"{what} is rejected at once",
        observed=f"it was asked at t={outcome.asked:g} and answered at t={outcome.ended:g}",
        hint="a rejection fails fast: don't wait (for a lock, a semaphore, a slot) before rejecting",
    )


def every_transition_is_an_event(
    chain: Chain,
    events: list[Event],
    expected: list[tuple[str, str]],
    *,
    name: str | None = None,
    during: str = "",
    diagnose: Callable[[], str | None] | None = None,
) -> None:
    """The breaker.state ``events`` are ``expected``; ``during`` names the part of the scenario; ``diagnose``,
    if given, names the flaw that changed the transitions, if it finds one (else the hint is about events)."""
    seen = [(old, new) for _, old, new in breaker_transitions(events)]
    diagnosed = diagnose() if diagnose is not None and seen != expected else None
    chain.require(
        seen == expected,
        f"{during}every transition is an event, in order: " + ", ".join(f"{old} -> {new}" for old, new in expected),
        observed=f"the breaker.state events were: {', '.join(f'{old} -> {new}' for old, new in seen) or 'none'}",
        hint=diagnosed
        or "change state only through self._move_to(new_state), which emits the event; never assign "
        "self.state directly, and move only when the state really changes",
    )
    if name is None:
        return
    named = breaker_transitions(events, name)
    chain.require(
        len(named) == len(seen),
        f"every breaker.state event carries the breaker's name, {name!r}",
        observed=f"{len(named)} of the {len(seen)} breaker.state events have name={name!r}",
        hint="keep the given constructor (self.name = name) and the given _move_to, which emits name=self.name",
        generic=True,
    )


def leaves_it(chain: Chain, prop: str, outcome: BreakerCall, state: object, expected: BreakerState, hint: str) -> None:
    """``prop``: the call was made and left the breaker in state ``expected``."""
    chain.require(
        outcome.made and state is expected,
        prop,
        observed=f"that call {outcome.describe()}; then breaker.state is {_state_name(state)}",
        hint=hint,
    )


# --------------------------------------------------------------------- CircuitBreaker


@dataclass
class Seen:
    """What a breaker scenario saw: its calls through ``breaker.call`` in order, the breaker's state at the
    moments the scenario looked, the times the upstream was called, and the run's events."""

    calls: list[BreakerCall]
    states: list[object] = field(default_factory=list)
    service_calls: list[float] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def _observe(chain: Chain, main: Callable[[], Awaitable[Seen]], deadline: float) -> Seen:
    """Run ``main`` on the virtual clock (it must finish); what it saw, with the run's events."""
    run = _scenario(chain, main, deadline)
    seen = run.unwrap()
    seen.events = run.events
    return seen


def _trips(chain: Chain, breaker: CircuitBreakerLike, plan: list[bool], start: float) -> Seen:
    """From ``start``, calls one second apart, failing where ``plan`` says, else ``lookup(3, scale=2)``."""
    upstream = Upstream()

    async def main() -> Seen:
        await asyncio.sleep(start)
        calls = []
        for fails in plan:
            if fails:
                calls.append(await _call(breaker, upstream, upstream.make(fails=True)))
            else:
                calls.append(await _call(breaker, upstream, upstream.lookup(), 3, scale=2))
            await asyncio.sleep(1.0)
        return Seen(calls)

    return _observe(chain, main, start + 10 * len(plan))


def a_failure_while_closed_reaches_its_caller(chain: Chain, seen: Seen, plan: list[bool]) -> None:
    number = plan.index(True) + 1
    first = seen.calls[number - 1]
    chain.require(
        first.made and isinstance(first.error, ServiceDown),
        "while closed, a failing call is made and its error reaches the caller unchanged",
        observed=f"call {number} {first.describe()}",
        hint="await func(*args, **kwargs) and re-raise what it raises (`raise`, not a new exception)",
    )


def arguments_and_result_pass_through(chain: Chain, seen: Seen, threshold: int) -> None:
    number = threshold
    success = seen.calls[number - 1]
    chain.require(
        success.made and success.error is None and success.value == 6,
        f"call {number}, breaker.call(lookup, 3, scale=2), returns lookup(3, scale=2) == 6",
        observed=f"call {number} {success.describe()}",
        hint=f"only {threshold - 1} failure(s) came before this call: open only when the count of consecutive "
        "failures reaches failure_threshold"
        if isinstance(success.error, CircuitOpenError)
        else "pass every argument on, positional and keyword: await func(*args, **kwargs), and return its result",
    )


def calls_before_the_threshold_are_made(chain: Chain, seen: Seen, threshold: int) -> None:
    for number, outcome in enumerate(seen.calls[: 2 * threshold - 1], 1):
        chain.require(
            outcome.made,
            f"call {number} (t={outcome.asked:g}) is made: "
            + ("a success in between reset the count of consecutive failures" if number > threshold else "")
            + (f"only {min(number, threshold) - 1} failure(s) before it" if number <= threshold else ""),
            observed=f"call {number} {outcome.describe()}",
            hint="the breaker opens after `failure_threshold` failures *in a row*: a success sets the count back to 0"
            if number > threshold
            else "open only when the count of consecutive failures reaches failure_threshold (>=, not before)",
        )


def the_failure_that_opens_it_reaches_its_caller(chain: Chain, seen: Seen, threshold: int) -> None:
    nth = seen.calls[2 * threshold - 1]
    chain.require(
        nth.made and isinstance(nth.error, ServiceDown),
        f"failure {threshold} in a row (t={nth.asked:g}) is made, and its error reaches the caller",
        observed=f"that call {nth.describe()}",
        hint="the caller of the failure that opens the breaker gets that failure's own error: count it, open, "
        "and re-raise it (`raise`); only the calls after it are rejected"
        if nth.made
        else "the threshold-th failure is recorded, not rejected: make the call, count its failure, then open",
    )


def the_call_after_it_is_rejected(chain: Chain, seen: Seen, threshold: int, state: object) -> None:
    after = seen.calls[-1]
    what = f"the call after failure {threshold} in a row (t={after.asked:g})"
    if after.made:
        chain.fail(
            f"{what} is rejected without calling the service",
            observed=f"the call {after.describe()}",
            hint="open the breaker when the count *reaches* failure_threshold (>=): gobreaker's "
            "`ConsecutiveFailures > 5` trips at the 6th failure, one late. And count every error that is an "
            "instance of self.counted (isinstance(error, self.counted): subclasses too; by default every Exception)"
            if state is not BreakerState.OPEN
            else "while open, raise CircuitOpenError before calling func",
        )
    rejected_at_once_without_calling(chain, what, after, wait_hint="while open, raise before calling func")


def the_state_is_open(chain: Chain, state: object) -> None:
    chain.require(
        state is BreakerState.OPEN,
        "the breaker's state is BreakerState.OPEN",
        observed=f"breaker.state is {_state_name(state)}",
        hint="use the given BreakerState enum",
    )


@learner_facing
def check_breaker_trips(breaker_class: type[CircuitBreakerLike], *, threshold: int = 3, start: float = 5.25) -> None:
    """Calls one second apart: ``threshold - 1`` failures, a success, ``threshold - 1`` failures (still
    closed: a success resets the count), then the ``threshold``-th consecutive failure: it is made and its
    error reaches the caller, and it opens the breaker; the next call is rejected without being made."""
    chain = Chain("CircuitBreaker")
    breaker = make(
        chain, breaker_class, "CircuitBreaker", failure_threshold=threshold, recovery_timeout=60.0, name="items"
    )
    plan = [True] * (threshold - 1) + [False] + [True] * threshold + [False]
    seen = _trips(chain, breaker, plan, start)
    a_failure_while_closed_reaches_its_caller(chain, seen, plan)
    arguments_and_result_pass_through(chain, seen, threshold)
    calls_before_the_threshold_are_made(chain, seen, threshold)
    the_failure_that_opens_it_reaches_its_caller(chain, seen, threshold)
    the_call_after_it_is_rejected(chain, seen, threshold, _state(breaker))
    the_state_is_open(chain, _state(breaker))
    every_transition_is_an_event(chain, seen.events, [("closed", "open")], name="items")


def _failing_calls(
    chain: Chain, breaker: CircuitBreakerLike, not_counted: list[bool], start: float, counted: list[Exception]
) -> Seen:
    """From ``start``, failing calls one after the other: NotCounted where ``not_counted`` says, else the errors
    of ``counted`` by turns."""
    upstream = Upstream()

    async def main() -> Seen:
        await asyncio.sleep(start)
        calls = []
        for number, other in enumerate(not_counted):
            error = NotCounted("404") if other else counted[number % len(counted)]
            calls.append(await _call(breaker, upstream, upstream.make(fails=True, error=error)))
        return Seen(calls)

    return _observe(chain, main, start + 60)


def errors_not_counted_pass_and_reset(chain: Chain, seen: Seen, plan: list[bool], reset: int) -> None:
    for number, outcome in enumerate(seen.calls[:-1], 1):
        after_reset = number > reset
        chain.require(
            outcome.made and outcome.error is not None,
            f"call {number} is made, and its error reaches the caller"
            + (": NotCounted is not a failure" if plan[number - 1] else "")
            + (
                f": the NotCounted error of call {reset} counts as a success, which sets the count of "
                "consecutive failures back to 0"
                if after_reset
                else ""
            ),
            observed=f"call {number} {outcome.describe()}",
            hint="an error that is not counted counts as a success (the service did answer): set the count of "
            "consecutive failures back to 0"
            if after_reset
            else "count only exceptions that are instances of self.counted (isinstance(error, self.counted)); "
            "let the others through without counting them",
        )


def counted_failures_open_it(chain: Chain, seen: Seen, threshold: int, kinds: str) -> None:
    several = " and " in kinds
    chain.require(
        isinstance(seen.calls[-1].error, CircuitOpenError) and not seen.calls[-1].made,
        f"after {threshold} {kinds} failures in a row the next call is rejected",
        observed=f"that call {seen.calls[-1].describe()}",
        hint="raise CircuitOpenError (given), never a bare Exception: a retry wrapper that retries every "
        "Exception would retry the rejection"
        if not seen.calls[-1].made and seen.calls[-1].error is not None
        else "an error is counted if it is an instance of any of the counted types: isinstance(error, "
        "self.counted) takes the whole tuple; don't test its first type only"
        if several
        else OPENS_AT_THE_THRESHOLD_HINT,
    )


@learner_facing
def check_breaker_counts(
    breaker_class: type[CircuitBreakerLike], *, threshold: int = 2, start: float = 3.5, two_types: bool = False
) -> None:
    """With ``counted=(ServiceDown,)``: ``2 * threshold`` calls raising another error (NotCounted) pass
    their error through and do not open it; then ``threshold - 1`` ServiceDown failures, a NotCounted (a
    success: the count goes back to 0), and ``threshold`` ServiceDown failures, which open it. With
    ``two_types``, ``counted=(UpstreamError, ServiceDown)``, and the failures raise one and the other by turns."""
    chain = Chain("CircuitBreaker")
    counted: tuple[type[Exception], ...] = (UpstreamError, ServiceDown) if two_types else (ServiceDown,)
    breaker = make(
        chain,
        breaker_class,
        "CircuitBreaker",
        failure_threshold=threshold,
        recovery_timeout=60.0,
        counted=counted,
    )
    plan = [True] * (2 * threshold) + [False] * (threshold - 1) + [True] + [False] * (threshold + 1)
    reset = 3 * threshold  # the NotCounted call between the counted failures
    errors: list[Exception] = [ServiceDown("the service is down")]
    if two_types:
        errors.append(UpstreamError(503, "/items/1"))
    seen = _failing_calls(chain, breaker, plan, start, errors)
    errors_not_counted_pass_and_reset(chain, seen, plan, reset)
    counted_failures_open_it(chain, seen, threshold, " and ".join(type(error).__name__ for error in errors))


def _open_then_call(
    chain: Chain,
    breaker: CircuitBreakerLike,
    offsets: tuple[float, ...],
    start: float,
    timeout: float,
    opening: tuple[int, float],
) -> Seen:
    """Opened by ``threshold`` failures one second apart from ``start``, each taking ``takes`` seconds
    (``opening``); then a call at each of ``offsets`` after the last of them ended, which opened it."""
    upstream = Upstream()
    threshold, takes = opening

    async def main() -> Seen:
        opened = await _open_at(start, breaker, upstream, threshold, spacing=1.0, takes=takes)
        calls = []
        for offset in offsets:
            await sleep_until(opened + offset)
            calls.append(await _call(breaker, upstream, upstream.make()))
        return Seen(calls)

    return _observe(chain, main, start + threshold * (1 + takes) + 10 * timeout + 10)


def made_once_the_timeout_has_passed(
    chain: Chain, what: str, outcome: BreakerCall, offset: float, why_none: Callable[[BreakerCall, str], str]
) -> None:
    chain.require(
        outcome.made and outcome.error is None and outcome.value == "ok",
        f"{what} is made: the recovery timeout has passed"
        + (" (at exactly opened_at + recovery_timeout, the wait is over)" if offset == 0 else ""),
        observed=f"the call {outcome.describe()}",
        hint=why_none(outcome, "when the wait is over, move to half open and make the call"),
    )


@learner_facing
def check_breaker_rejects_while_open(
    breaker_class: type[CircuitBreakerLike],
    *,
    timeout: float = 30.0,
    epsilon: float = 0.25,
    start: float = 7.25,
    threshold: int = 1,
    takes: float = 0.0,
) -> None:
    """Opened by ``threshold`` failures one second apart from ``start``, each failing after ``takes`` seconds:
    calls at ``timeout / 2`` and ``timeout - epsilon`` after the last of them failed (which opened it) are
    rejected without being made; a call at ``timeout + epsilon`` is made; in a second run, a call at exactly
    ``timeout`` after it is made too (the wait is over)."""
    chain = Chain("CircuitBreaker")
    opened_by = (
        f" by failure {threshold} in a row (the first began {(threshold - 1) * (1 + takes) + takes:g} s earlier)"
        if threshold > 1 or takes
        else ""
    )
    for offsets in ((timeout / 2, timeout - epsilon, timeout + epsilon), (timeout - epsilon, timeout)):
        breaker = make(chain, breaker_class, "CircuitBreaker", failure_threshold=threshold, recovery_timeout=timeout)
        seen = _open_then_call(chain, breaker, offsets, start, timeout, (threshold, takes))
        for offset, outcome in zip(offsets, seen.calls, strict=True):
            what = f"a call at t={outcome.asked:g}, {offset:g} s after the breaker opened{opened_by}"
            if offset < timeout:
                rejected_at_once_without_calling(
                    chain,
                    what,
                    outcome,
                    wait_hint="while open, reject every call until recovery_timeout seconds after it opened"
                    + (
                        ": the timer runs from the instant the failure that opened the breaker arrived (the loop's "
                        "time when it raised), not from when that call began, nor from an earlier failure of its streak"
                        if threshold > 1 or takes
                        else ""
                    ),
                )
            else:
                made_once_the_timeout_has_passed(
                    chain, what, outcome, offset - timeout, functools.partial(_timer_hint, breaker_class, timeout)
                )


def _half_open_burst(chain: Chain, breaker: CircuitBreakerLike, calls: int, start: float, timeout: float) -> Seen:
    """Opened at ``start`` by one failure; at ``start + timeout``, ``calls`` calls of 2 s arrive at once."""
    upstream = Upstream()

    async def main() -> Seen:
        opened = await _open_at(start, breaker, upstream, 1)
        await sleep_until(opened + timeout)
        funcs = [upstream.make(duration=2.0) for _ in range(calls)]
        return Seen(await _together(breaker, upstream, funcs), service_calls=upstream.calls)

    return _observe(chain, main, start + 10 * timeout + 10)


def exactly_limit_trials_are_made(
    chain: Chain, seen: Seen, what: str, limit: int, since: float, why_none: Callable[[BreakerCall, str], str]
) -> None:
    made = [outcome for outcome in seen.calls if outcome.made]
    waited = [t for t in seen.service_calls if t > since]
    chain.require(
        len(made) == limit,
        f"{what}, exactly {limit} are made",
        observed=f"{len(made)} were made"
        + (f", {len(waited)} of them later, at t={', '.join(f'{t:g}' for t in waited)}" if waited else ""),
        hint="a call beyond the trial slots waited for a free slot and was then made: reject it at once instead "
        "(a Semaphore or a wait loop makes it wait)"
        if waited
        else "count the trial calls running; while half_open_max_calls of them run, reject the rest "
        "(document 002's breaker lets every caller through once half open)"
        if len(made) > limit
        else why_none(seen.calls[0], "half open admits half_open_max_calls trial calls at once, not fewer")
        if not made
        else "half open admits half_open_max_calls trial calls at once, not fewer",
    )


def the_others_are_rejected(chain: Chain, calls: list[BreakerCall], what: str, limit: int, wait_hint: str) -> None:
    for outcome in calls:
        if not outcome.made:
            rejected_at_once_without_calling(
                chain, f"{what}, a call beyond the {limit} trial slots", outcome, wait_hint=wait_hint
            )


@learner_facing
def check_breaker_half_open_limit(
    breaker_class: type[CircuitBreakerLike],
    *,
    limit: int = 2,
    extra: int = 2,
    timeout: float = 10.0,
    start: float = 2.5,
) -> None:
    """Opened at ``start``; at ``start + timeout``, ``limit + extra`` calls arrive at once, each taking 2 s:
    exactly ``limit`` are made (trial calls); the other ``extra`` are rejected at once with CircuitOpenError."""
    chain = Chain("CircuitBreaker")
    breaker = make(
        chain, breaker_class, "CircuitBreaker", failure_threshold=1, recovery_timeout=timeout, half_open_max_calls=limit
    )
    seen = _half_open_burst(chain, breaker, limit + extra, start, timeout)
    what = f"of {limit + extra} calls arriving together at t={start + timeout:g}, half open"
    exactly_limit_trials_are_made(
        chain, seen, what, limit, start + timeout, functools.partial(_timer_hint, breaker_class, timeout)
    )
    the_others_are_rejected(chain, seen.calls, what, limit, "reject the calls beyond the trial slots")


def _failed_trial(
    chain: Chain, breaker: CircuitBreakerLike, threshold: int, start: float, timeout: float, epsilon: float
) -> Seen:
    """Opened at ``start``; a trial failing after 1 s at ``start + timeout`` (the state right after it); then
    calls ``timeout - epsilon`` and ``timeout + epsilon`` after that failure."""
    upstream = Upstream()

    async def main() -> Seen:
        opened = await _open_at(start, breaker, upstream, threshold)
        await sleep_until(opened + timeout)
        trial = await _call(breaker, upstream, upstream.make(fails=True, duration=1.0))
        state = _state(breaker)
        calls = [trial]
        for offset in (timeout - epsilon, timeout + epsilon):
            await sleep_until(trial.asked + 1.0 + offset)
            calls.append(await _call(breaker, upstream, upstream.make()))
        return Seen(calls, [state])

    return _observe(chain, main, start + 10 * timeout + 10)


def a_failed_trial_reopens_it_at_once(
    chain: Chain, seen: Seen, what: str, why_none: Callable[[BreakerCall, str], str]
) -> None:
    trial, state = seen.calls[0], seen.states[0]
    chain.require(
        trial.made and isinstance(trial.error, ServiceDown),
        f"{what} is made, and its error reaches the caller",
        observed=f"the trial call {trial.describe()}",
        hint="await func(*args, **kwargs) and re-raise what it raises (`raise`, not a new exception)"
        if trial.made and trial.error is not None and not isinstance(trial.error, ServiceDown | CircuitOpenError)
        else why_none(trial, "once the recovery timeout has passed, move to half open and make the call"),
    )
    chain.require(
        state is BreakerState.OPEN,
        f"{what} fails at t={trial.ended:g}: the breaker is open again at once",
        observed=f"right after, breaker.state is {_state_name(state)}",
        hint="any failure of a trial call reopens the breaker at once, whatever failure_threshold says: "
        "the threshold counts failures while closed only",
    )


def reopening_starts_a_fresh_timer(
    chain: Chain, seen: Seen, timeout: float, epsilon: float, why_none: Callable[[BreakerCall, str], str]
) -> None:
    trial, early, late = seen.calls
    failed_at = trial.ended or 0.0
    rejected_at_once_without_calling(
        chain,
        f"a call at t={early.asked:g}, {timeout - epsilon:g} s after the trial failed",
        early,
        wait_hint="reopening starts a fresh timer: set opened_at to the loop's time of the trial's failure (when "
        "it raised, not when the trial began)",
    )
    chain.require(
        late.made and late.value == "ok",
        f"a call at t={late.asked:g}, {timeout + epsilon:g} s after the trial failed at t={failed_at:g}, is made",
        observed=f"the call {late.describe()}",
        hint=why_none(late, "after the fresh timer runs out, half open again: make the call"),
    )


@learner_facing
def check_breaker_reopens(
    breaker_class: type[CircuitBreakerLike],
    *,
    threshold: int = 2,
    timeout: float = 10.0,
    epsilon: float = 0.25,
    start: float = 4.75,
) -> None:
    """Opened at ``start`` by ``threshold`` failures; the trial call at ``start + timeout`` fails after 1 s:
    the breaker opens again at once (one trial failure is enough, whatever the threshold), with a fresh
    timer: a call ``timeout - epsilon`` after that failure is rejected (the old timer would have let it
    through), one ``timeout + epsilon`` after it is made."""
    chain = Chain("CircuitBreaker")
    breaker = make(chain, breaker_class, "CircuitBreaker", failure_threshold=threshold, recovery_timeout=timeout)
    seen = _failed_trial(chain, breaker, threshold, start, timeout, epsilon)
    a_failed_trial_reopens_it_at_once(
        chain, seen, f"the trial call at t={start + timeout:g}", functools.partial(_timer_hint, breaker_class, timeout)
    )
    reopening_starts_a_fresh_timer(
        chain, seen, timeout, epsilon, functools.partial(_timer_hint, breaker_class, timeout)
    )
    every_transition_is_an_event(
        chain,
        seen.events,
        [
            ("closed", "open"),
            ("open", "half_open"),
            ("half_open", "open"),
            ("open", "half_open"),
            ("half_open", "closed"),
        ],
        diagnose=functools.partial(_closing_hint, breaker_class),
    )


def _trials_then_failures(
    chain: Chain, breaker: CircuitBreakerLike, limit: int, threshold: int, start: float, timeout: float
) -> Seen:
    """Opened at ``start``; from ``start + timeout``, ``limit`` trials of 1 s that succeed, then ``threshold``
    failures, one after the other; the state after each call."""
    upstream = Upstream()

    async def main() -> Seen:
        opened = await _open_at(start, breaker, upstream, threshold)
        await sleep_until(opened + timeout)
        seen = Seen([])
        for fails, duration, count in ((False, 1.0, limit), (True, 0.0, threshold)):
            for _ in range(count):
                seen.calls.append(await _call(breaker, upstream, upstream.make(fails=fails, duration=duration)))
                seen.states.append(_state(breaker))
        return seen

    return _observe(chain, main, start + 10 * timeout + 10 * limit + 10)


def closes_after_limit_successful_trials(
    chain: Chain, seen: Seen, limit: int, why_none: Callable[[BreakerCall, str], str]
) -> None:
    for number, (outcome, state) in enumerate(zip(seen.calls[:limit], seen.states[:limit], strict=True), 1):
        expected = BreakerState.CLOSED if number == limit else BreakerState.HALF_OPEN
        chain.require(
            outcome.made and outcome.value == "ok",
            f"trial call {number} of {limit} (t={outcome.asked:g}) is made and returns",
            observed=f"the call {outcome.describe()}",
            hint=why_none(
                outcome,
                "half open admits trial calls one at a time as long as slots are free: free a trial's slot "
                "when it ends",
            )
            if number == 1
            else "half open admits trial calls one at a time as long as slots are free: free a trial's slot "
            "when it ends",
        )
        chain.require(
            state is expected,
            f"after {number} successful trial call(s) of {limit}, the breaker is {expected.name}",
            observed=f"breaker.state is {_state_name(state)}",
            hint=CLOSES_AFTER_ONE_HINT if expected is BreakerState.HALF_OPEN else CLOSE_AT_THE_LIMIT_HINT,
        )


def closing_resets_the_counts(chain: Chain, seen: Seen, limit: int, threshold: int) -> None:
    for number, (outcome, state) in enumerate(zip(seen.calls[limit:], seen.states[limit:], strict=True), 1):
        expected = BreakerState.OPEN if number == threshold else BreakerState.CLOSED
        leaves_it(
            chain,
            f"closed again, failure {number} of {threshold} in a row leaves it {expected.name}",
            outcome,
            state,
            expected,
            "closing resets the counts: set the consecutive failures (and the trial counts) back to 0",
        )


@learner_facing
def check_breaker_closes(
    breaker_class: type[CircuitBreakerLike],
    *,
    limit: int = 3,
    threshold: int = 2,
    timeout: float = 5.0,
    start: float = 1.5,
) -> None:
    """Opened at ``start``; from ``start + timeout``, ``limit`` trial calls one after the other, 1 s each,
    all succeed: half open until the ``limit``-th, closed after it. The counts start again from 0:
    ``threshold - 1`` failures leave it closed, one more opens it."""
    chain = Chain("CircuitBreaker")
    breaker = make(
        chain,
        breaker_class,
        "CircuitBreaker",
        failure_threshold=threshold,
        recovery_timeout=timeout,
        half_open_max_calls=limit,
    )
    seen = _trials_then_failures(chain, breaker, limit, threshold, start, timeout)
    closes_after_limit_successful_trials(chain, seen, limit, functools.partial(_timer_hint, breaker_class, timeout))
    closing_resets_the_counts(chain, seen, limit, threshold)
    every_transition_is_an_event(
        chain, seen.events, [("closed", "open"), ("open", "half_open"), ("half_open", "closed"), ("closed", "open")]
    )


KEEP_THE_DEFAULTS = (
    "keep the given constructor and its defaults: failure_threshold=5, recovery_timeout=30.0, "
    "half_open_max_calls=1, counted=(Exception,), name='breaker'"
)


def _with_defaults(chain: Chain, breaker: CircuitBreakerLike, start: float, takes: float) -> Seen:
    """From ``start``, 5 failures one second apart, each raising after ``takes`` seconds (the state after each);
    calls 29.75 s and 30 s after the last failure (the state after the second)."""
    upstream = Upstream()

    async def main() -> Seen:
        await asyncio.sleep(start)
        seen = Seen([])
        for _ in range(5):
            seen.calls.append(await _call(breaker, upstream, upstream.make(fails=True, duration=takes)))
            seen.states.append(_state(breaker))
            await asyncio.sleep(1.0)
        opened = seen.calls[-1].ended or 0.0
        for offset in (29.75, 30.0):
            await sleep_until(opened + offset)
            seen.calls.append(await _call(breaker, upstream, upstream.make()))
        seen.states.append(_state(breaker))
        return seen

    return _observe(chain, main, start + 5 * takes + 120)


def failure_threshold_defaults_to_5(chain: Chain, seen: Seen) -> None:
    for number, (outcome, after) in enumerate(zip(seen.calls[:5], seen.states[:5], strict=True), 1):
        expected = BreakerState.OPEN if number == 5 else BreakerState.CLOSED
        leaves_it(
            chain,
            f"failure {number} in a row is made and leaves it {expected.name} (failure_threshold defaults to 5)",
            outcome,
            after,
            expected,
            KEEP_THE_DEFAULTS,
        )


def recovery_timeout_defaults_to_30_and_one_trial_closes(
    chain: Chain, seen: Seen, breaker_class: type[CircuitBreakerLike]
) -> None:
    early, trial, state = seen.calls[5], seen.calls[6], seen.states[5]
    opened = seen.calls[4].ended or 0.0
    rejected_at_once_without_calling(
        chain,
        f"a call at t={early.asked:g}, 29.75 s after it opened at t={opened:g},",
        early,
        wait_hint="the wait lasts recovery_timeout (30.0 s by default: keep the given constructor's defaults) "
        "from the failure that opened the breaker, when it raised: not from when that call began, nor from an "
        "earlier failure",
    )
    chain.require(
        trial.made and trial.value == "ok" and state is BreakerState.CLOSED,
        f"a call at t={trial.asked:g}, 30 s after it opened (recovery_timeout defaults to 30.0), "
        "is made, and its success closes the breaker (half_open_max_calls defaults to 1)",
        observed=f"the call {trial.describe()}; then breaker.state is {_state_name(state)}",
        hint=_timer_hint(breaker_class, 30.0, trial, KEEP_THE_DEFAULTS)
        if not trial.made
        else _closing_hint(breaker_class) or KEEP_THE_DEFAULTS
        if trial.value == "ok" and state is BreakerState.HALF_OPEN
        else KEEP_THE_DEFAULTS,
    )


@learner_facing
def check_breaker_defaults(breaker_class: type[CircuitBreakerLike], *, start: float = 2.75, takes: float = 0.0) -> None:
    """``CircuitBreaker()``, the given constructor's defaults: calls one second apart (each failing after
    ``takes`` seconds), 4 failures leave it closed, the 5th opens it; a call 29.75 s after it failed is
    rejected, one at exactly 30 s is a trial call that succeeds and closes it (one trial); every event is
    named ``"breaker"``."""
    chain = Chain("CircuitBreaker")
    breaker = make(chain, breaker_class, "CircuitBreaker")
    seen = _with_defaults(chain, breaker, start, takes)
    failure_threshold_defaults_to_5(chain, seen)
    recovery_timeout_defaults_to_30_and_one_trial_closes(chain, seen, breaker_class)
    every_transition_is_an_event(
        chain, seen.events, [("closed", "open"), ("open", "half_open"), ("half_open", "closed")], name="breaker"
    )


@dataclass
class TrialOutcomes:
    """What check_breaker_trial_outcomes saw: two trials one after the other, each with the state after it;
    then a burst of calls at ``burst_at``, and the state 1.5 s later."""

    first: BreakerCall
    first_state: object
    second: BreakerCall
    second_state: object
    burst_at: float
    burst: list[BreakerCall]
    mid_state: object


def _trial_outcomes(
    chain: Chain, breaker: CircuitBreakerLike, limit: int, start: float, timeout: float
) -> TrialOutcomes:
    """Opened at ``start``; a trial that succeeds, one that raises NotCounted, then ``limit + 1`` calls at once."""
    upstream = Upstream()
    durations = [1.0] * (limit - 2) + [3.0] * 3

    async def main() -> TrialOutcomes:
        opened = await _open_at(start, breaker, upstream, 1)
        await sleep_until(opened + timeout)
        first = await _call(breaker, upstream, upstream.make(duration=1.0))
        first_state = _state(breaker)
        second = await _call(breaker, upstream, upstream.make(fails=True, duration=1.0, error=NotCounted("404")))
        second_state = _state(breaker)
        burst_at = asyncio.get_running_loop().time()
        tasks = [asyncio.create_task(_call(breaker, upstream, upstream.make(duration=d))) for d in durations]
        await asyncio.sleep(1.5)
        mid_state = _state(breaker)
        burst = list(await asyncio.gather(*tasks))
        return TrialOutcomes(first, first_state, second, second_state, burst_at, burst, mid_state)

    run: VirtualRun[TrialOutcomes] = _scenario(chain, main, start + 10 * timeout + 60)
    return run.unwrap()


def a_not_counted_trial_error_is_no_failure(
    chain: Chain, seen: TrialOutcomes, limit: int, why_none: Callable[[BreakerCall, str], str]
) -> None:
    first, second = seen.first, seen.second
    chain.require(
        first.made and first.value == "ok" and seen.first_state is BreakerState.HALF_OPEN,
        f"trial call 1 (t={first.asked:g}) is made and succeeds; 1 successful trial of {limit}: still HALF_OPEN",
        observed=f"the call {first.describe()}; then breaker.state is {_state_name(seen.first_state)}",
        hint=why_none(
            first,
            CLOSES_AFTER_ONE_HINT
            if first.made and seen.first_state is BreakerState.CLOSED
            else "once the recovery timeout has passed, make the trial call; close only after half_open_max_calls "
            "successful trials",
        ),
    )
    chain.require(
        second.made and isinstance(second.error, NotCounted) and seen.second_state is BreakerState.HALF_OPEN,
        f"trial call 2 (t={second.asked:g}) is made, its NotCounted error reaches the caller, and "
        f"the breaker stays HALF_OPEN (2 successful trials of {limit})",
        observed=f"the call {second.describe()}; then breaker.state is {_state_name(seen.second_state)}",
        hint="await func(*args, **kwargs) and re-raise what it raises (`raise`, not a new exception)"
        if second.made and second.error is not None and not isinstance(second.error, NotCounted)
        else "an error that is not counted is not a failure, in half open too: re-raise it, don't reopen "
        "(count only isinstance(error, self.counted))",
    )


def every_ended_trial_frees_its_slot(chain: Chain, seen: TrialOutcomes, what: str, limit: int) -> None:
    made = [outcome for outcome in seen.burst if outcome.made]
    chain.require(
        len(made) == limit,
        f"{what}, exactly {limit} are made: every trial that ended freed its slot",
        observed=f"{len(made)} were made",
        hint="free a trial's slot exactly once when it ends, whether it succeeded, failed, or raised an error "
        "that is not counted (self.trials -= 1 on every way out)"
        if len(made) < limit
        else "free a trial's slot once, not more: a freed slot that was never taken lets extra trials through",
    )


def a_not_counted_trial_is_a_success(
    chain: Chain, seen: TrialOutcomes, what: str, limit: int, breaker_class: type[CircuitBreakerLike]
) -> None:
    chain.require(
        seen.mid_state is BreakerState.CLOSED,
        f"{what}: at t={seen.burst_at + 1.5:g}, when the {limit - 2} call(s) of 1 s have succeeded, {limit} trials "
        "have succeeded (the NotCounted one included: the service did answer), and the breaker is CLOSED",
        observed=f"breaker.state is {_state_name(seen.mid_state)}",
        hint=(_closing_hint(breaker_class) if seen.mid_state is BreakerState.HALF_OPEN else None)
        or "an error that is not counted counts as a success, for a trial too: count it among the successful trials",
    )


@learner_facing
def check_breaker_trial_outcomes(
    breaker_class: type[CircuitBreakerLike], *, limit: int = 3, timeout: float = 10.0, start: float = 6.5
) -> None:
    """With ``counted=(ServiceDown,)``, opened at ``start``; from ``start + timeout``, one after the other: a
    trial call that succeeds, a trial call that raises NotCounted (its error reaches the caller; it is a
    successful trial: the service answered); then ``limit + 1`` calls arrive at once: both ended trials
    freed their slots, so exactly ``limit`` are made; ``limit - 2`` of them take 1 s, the others 3 s: when
    the 1 s ones have succeeded, ``limit`` trials have succeeded and the breaker is closed. ``limit >= 3``."""
    chain = Chain("CircuitBreaker")
    breaker = make(
        chain,
        breaker_class,
        "CircuitBreaker",
        failure_threshold=1,
        recovery_timeout=timeout,
        half_open_max_calls=limit,
        counted=(ServiceDown,),
    )
    seen = _trial_outcomes(chain, breaker, limit, start, timeout)
    a_not_counted_trial_error_is_no_failure(chain, seen, limit, functools.partial(_timer_hint, breaker_class, timeout))
    what = (
        f"after a trial that succeeded and a trial that raised NotCounted, of {limit + 1} calls "
        f"arriving together at t={seen.burst_at:g}"
    )
    every_ended_trial_frees_its_slot(chain, seen, what, limit)
    the_others_are_rejected(chain, seen.burst, what, limit, "reject it at once")
    a_not_counted_trial_is_a_success(chain, seen, what, limit, breaker_class)


def _late_failures_while_open(chain: Chain, breaker: CircuitBreakerLike, start: float, timeout: float) -> Seen:
    """Run 1: at ``start``, three calls together failing after 1, 2 and 4 s; a call ``timeout`` s after
    the second failed."""
    upstream = Upstream()

    async def main() -> Seen:
        await asyncio.sleep(start)
        together = [upstream.make(fails=True, duration=d) for d in (1.0, 2.0, 4.0)]
        calls = await _together(breaker, upstream, together)
        await sleep_until(start + 2.0 + timeout)
        return Seen([*calls, await _call(breaker, upstream, upstream.make())])

    return _observe(chain, main, start + 10 * timeout + 60)


def a_late_failure_while_open_changes_nothing(
    chain: Chain, seen: Seen, what: str, start: float, timeout: float, why_none: Callable[[BreakerCall, str], str]
) -> None:
    *outcomes, later = seen.calls
    chain.require(
        all(outcome.made and isinstance(outcome.error, ServiceDown) for outcome in outcomes),
        f"{what}: all three are made and their errors reach their callers",
        observed="; ".join(f"call {number} {outcome.describe()}" for number, outcome in enumerate(outcomes, 1)),
        hint="the caller of the failure that opens the breaker gets that failure's own error: count it, open, "
        "and re-raise it (`raise`)"
        if any(outcome.made and isinstance(outcome.error, CircuitOpenError) for outcome in outcomes)
        else "while closed, every call is made; re-raise its error",
    )
    chain.require(
        later.made and later.value == "ok",
        f"{what}; the second opens it at t={start + 2:g}, the third fails while it is open and changes nothing: "
        f"a call at t={later.asked:g}, {timeout:g} s after it opened, is made",
        observed=f"the call {later.describe()}",
        hint=why_none(
            later,
            "a call made while closed that fails after the breaker has opened is not counted: count a failure "
            "only while the state is still CLOSED (it must not reopen the breaker nor restart its timer)",
        ),
    )


def _late_trial(
    chain: Chain, breaker: CircuitBreakerLike, late_fails: bool, start: float, timeout: float, fresh_slots: bool
) -> Seen:
    """Runs 2 and 3: opened at ``start``; at ``start + timeout`` trial A fails after 1 s while trial B takes
    ``timeout + 3`` s (failing if ``late_fails``); ``timeout`` s after A failed, trial C of 4 s. Calls A, B,
    C; the state after C. With ``fresh_slots``, trial D (5 s) starts 0.5 s after C, and a call E 2.5 s after
    C (B has ended, C and D run): calls A, B, C, D, E."""
    upstream = Upstream()

    async def main() -> Seen:
        opened = await _open_at(start, breaker, upstream, 1)
        await sleep_until(opened + timeout)
        a = asyncio.create_task(_call(breaker, upstream, upstream.make(fails=True, duration=1.0)))
        b = asyncio.create_task(_call(breaker, upstream, upstream.make(fails=late_fails, duration=timeout + 3)))
        first = await a
        due = (first.ended or 0.0) + timeout
        await sleep_until(due)
        c = asyncio.create_task(_call(breaker, upstream, upstream.make(duration=4.0)))
        if not fresh_slots:
            third = await c
            return Seen([first, await b, third], [_state(breaker)])
        await sleep_until(due + 0.5)
        d = asyncio.create_task(_call(breaker, upstream, upstream.make(duration=5.0)))
        await sleep_until(due + 2.5)
        e = await _call(breaker, upstream, upstream.make())
        third = await c
        state = _state(breaker)
        return Seen([first, await b, third, await d, e], [state])

    return _observe(chain, main, start + 10 * timeout + 60)


def a_new_period_has_slots_of_its_own(chain: Chain, seen: Seen, what: str) -> None:
    """D, while C runs (and B of the earlier period still runs), is made; E, once B has ended, while C and D
    run, is rejected: B neither held a slot of this period nor freed one."""
    _, b, c, d, e = seen.calls
    chain.require(
        d.made and d.value == "ok",
        f"{what}: trial D, at t={d.asked:g} while C runs and B (of the earlier period) still runs, is made: the new "
        "half-open period has half_open_max_calls slots of its own",
        observed=f"D {d.describe()}",
        hint="moving to half open, start the count of trials running from 0 (self.trials = 0): a trial of an "
        "earlier period that still runs holds no slot of the new one",
    )
    rejected_at_once_without_calling(
        chain,
        f"{what}: call E, at t={e.asked:g} (B ended at t={b.ended:g}; C and D run), with both trial slots taken,",
        e,
        wait_hint="a trial that ends after its period was over frees no slot of the current one: remember which "
        "period admitted it (e.g. the opened_at it was made under), and free its slot only in that period",
    )


def _trial_after_closing(
    chain: Chain, breaker: CircuitBreakerLike, late_fails: bool, start: float, timeout: float
) -> Seen:
    """Runs 4 and 5 (threshold 2, two trial slots): opened at ``start``; at ``start + timeout`` trial T (10 s,
    failing if ``late_fails``) starts, and two trials of 1 s one after the other succeed: closed. Then failure
    F1; T ends (after its period: the breaker closed); failure F2. Calls T, F1, F2; the states after F1, F2."""
    upstream = Upstream()

    async def main() -> Seen:
        opened = await _open_at(start, breaker, upstream, 2)
        await sleep_until(opened + timeout)
        t = asyncio.create_task(_call(breaker, upstream, upstream.make(fails=late_fails, duration=10.0)))
        for _ in range(2):
            await _call(breaker, upstream, upstream.make(duration=1.0))
        f1 = await _call(breaker, upstream, upstream.make(fails=True))
        after_f1 = _state(breaker)
        late = await t
        f2 = await _call(breaker, upstream, upstream.make(fails=True))
        return Seen([late, f1, f2], [after_f1, _state(breaker)])

    return _observe(chain, main, start + 10 * timeout + 60)


def _late_success_while_open(chain: Chain, breaker: CircuitBreakerLike, start: float, timeout: float) -> Seen:
    """Run 6 (threshold 1): at ``start``, call L (``timeout / 2`` s, succeeds) begins; 0.25 s later a failure
    opens the breaker; L ends while it is open; a call ``3 * timeout / 4`` after the opening. Calls L, the
    failure, the call after."""
    upstream = Upstream()

    async def main() -> Seen:
        await asyncio.sleep(start)
        late = asyncio.create_task(_call(breaker, upstream, upstream.make(duration=timeout / 2)))
        await asyncio.sleep(0.25)
        failure = await _call(breaker, upstream, upstream.make(fails=True))
        await sleep_until(start + 0.25 + 3 * timeout / 4)
        after = await _call(breaker, upstream, upstream.make())
        return Seen([await late, failure, after])

    return _observe(chain, main, start + 10 * timeout + 60)


def a_late_success_while_open_changes_nothing(chain: Chain, seen: Seen) -> None:
    late, failure, after = seen.calls
    rejected_at_once_without_calling(
        chain,
        f"run 6 (failure_threshold=1): call L, made at t={late.asked:g} while closed, succeeds at t={late.ended:g}, "
        f"after failure F opened the breaker at t={failure.ended:g}: L changes nothing, and a call at "
        f"t={after.asked:g}, before the recovery timeout has run out,",
        after,
        wait_hint="a call made while closed that succeeds after the breaker opened changes nothing: a success "
        "closes nothing, and resets nothing, unless it belongs to the current period (made while closed and "
        "ending while closed, or a trial of this half-open period)",
    )


def a_trial_ending_after_closing_changes_nothing(chain: Chain, seen: Seen, late_fails: bool) -> None:
    late, f1, f2 = seen.calls
    what = (
        f"run {5 if late_fails else 4} (failure_threshold=2, half_open_max_calls=2): closed by two successful "
        f"trials; failure F1 at t={f1.asked:g}; trial T, made at t={late.asked:g}, "
        f"{'fails' if late_fails else 'succeeds'} at t={late.ended:g}, after its period (the breaker closed); "
        f"failure F2 at t={f2.asked:g}"
    )
    chain.require(
        seen.states[0] is BreakerState.CLOSED,
        f"{what}: after F1 the breaker is still CLOSED (1 failure in a row since it closed, of 2)",
        observed=f"after F1, breaker.state is {_state_name(seen.states[0])}",
        hint="closing resets the counts: the consecutive failures that opened the breaker are not counted again",
    )
    chain.require(
        f2.made and isinstance(f2.error, ServiceDown) and seen.states[1] is BreakerState.OPEN,
        f"{what}: F2 is made and opens the breaker (2 failures in a row: T changes nothing)",
        observed=f"F2 {f2.describe()}; then breaker.state is {_state_name(seen.states[1])} (T {late.describe()})",
        hint="a trial that ends after the breaker closed belongs to its half-open period: count neither its "
        "success nor its failure among the closed state's consecutive failures (count a failure while closed "
        "only for a call made while closed)",
    )


def a_late_trial_changes_nothing(
    chain: Chain,
    seen: Seen,
    what: str,
    late_fails: bool,
    why_none: Callable[[BreakerCall, str], str],
    closing: Callable[[], str | None],
) -> None:
    a, b, c = seen.calls[:3]
    chain.require(
        a.made and isinstance(a.error, ServiceDown) and b.made and c.made and c.value == "ok",
        f"{what}: A, B and C are made, and each caller gets its call's result or error",
        observed=f"A {a.describe()}; B {b.describe()}; C {c.describe()}",
        hint=why_none(
            a, "half open admits half_open_max_calls trial calls at once; a failed trial reopens the breaker"
        ),
    )
    chain.require(
        (isinstance(b.error, ServiceDown) if late_fails else b.value == "ok"),
        f"{what}: B's {'error' if late_fails else 'result'} reaches its caller",
        observed=f"B {b.describe()}",
        hint="return the call's result, re-raise its error, whatever the breaker's state is by then",
    )
    if len(seen.calls) > 3:
        a_new_period_has_slots_of_its_own(chain, seen, what)
    chain.require(
        seen.states[0] is BreakerState.HALF_OPEN,
        f"{what}: B belongs to the earlier period and changes nothing; after C succeeded, the breaker is "
        "HALF_OPEN (1 successful trial of 2)",
        observed=f"breaker.state is {_state_name(seen.states[0])}",
        hint=(closing() if seen.states[0] is BreakerState.CLOSED else None)
        or "remember which half-open period admitted a trial (e.g. the opened_at it was made under); when "
        "it ends in another period (or state), count neither its success nor its failure, and don't free "
        "a slot of the current period",
    )


def _late_trial_runs(
    chain: Chain, breaker_class: type[CircuitBreakerLike], timeout: float, start: float, fresh_slots: bool
) -> None:
    """Runs 2 and 3 of check_breaker_late_calls."""
    for late_fails in (False, True):
        breaker = make(
            chain, breaker_class, "CircuitBreaker", failure_threshold=1, recovery_timeout=timeout, half_open_max_calls=2
        )
        seen = _late_trial(chain, breaker, late_fails, start, timeout, fresh_slots)
        a, b, c = seen.calls[:3]
        what = (
            f"run {3 if late_fails else 2} (failure_threshold=1, half_open_max_calls=2): trial A fails at "
            f"t={a.ended:g} and reopens the breaker; trial B, made at t={b.asked:g}, "
            f"{'fails' if late_fails else 'succeeds'} at t={b.ended:g}, during trial C of the next half-open "
            f"period (t={c.asked:g} to t={c.ended:g})"
        )
        a_late_trial_changes_nothing(
            chain,
            seen,
            what,
            late_fails,
            functools.partial(_timer_hint, breaker_class, timeout),
            functools.partial(_closing_hint, breaker_class),
        )
        every_transition_is_an_event(
            chain,
            seen.events,
            [("closed", "open"), ("open", "half_open"), ("half_open", "open"), ("open", "half_open")]
            + [("half_open", "closed")] * fresh_slots,
            during=f"{what}: ",
        )


@learner_facing
def check_breaker_late_calls(
    breaker_class: type[CircuitBreakerLike],
    *,
    timeout: float = 10.0,
    start: float = 4.25,
    fresh_slots: bool = False,
    after_closing: bool = False,
) -> None:
    """Calls that end after the period that made them change nothing. Run 1 (threshold 2): three calls made
    together while closed fail after 1, 2 and 4 s; the second opens the breaker; the third fails while it is
    open, and the timer still runs from the opening: a call ``timeout`` s after it is made. Runs 2 and 3
    (threshold 1, two trial slots): opened at ``start``; at ``start + timeout`` trial A fails after 1 s
    (reopens) while trial B takes ``timeout + 3`` s; ``timeout`` s after A failed, trial C (4 s) starts; B
    ends during C, succeeding (run 2) or failing (run 3): B belongs to the earlier half-open period, so after
    C has succeeded the breaker is still HALF_OPEN (1 successful trial of 2). With ``fresh_slots``, trial D
    starts while B and C run, and is made (B holds no slot of this period); call E, after B ended, while C and
    D run, is rejected (B freed no slot of it). With ``after_closing``, runs 4 and 5 (threshold 2): a trial
    that ends after two others closed the breaker, between two failures, changes nothing: the breaker is
    still closed after the first (closing reset the counts), and the second opens it;
    run 6 (threshold 1): a call made while closed that succeeds after a failure opened the breaker changes
    nothing: a call before the timeout has run out is rejected."""
    chain = Chain("CircuitBreaker")
    breaker = make(chain, breaker_class, "CircuitBreaker", failure_threshold=2, recovery_timeout=timeout)
    seen = _late_failures_while_open(chain, breaker, start, timeout)
    what = f"run 1 (failure_threshold=2): three calls made together at t={start:g} fail after 1, 2, 4 s"
    a_late_failure_while_open_changes_nothing(
        chain, seen, what, start, timeout, functools.partial(_timer_hint, breaker_class, timeout)
    )
    every_transition_is_an_event(
        chain, seen.events, [("closed", "open"), ("open", "half_open"), ("half_open", "closed")], during=f"{what}: "
    )
    _late_trial_runs(chain, breaker_class, timeout, start, fresh_slots)
    for late_fails in (False, True) if after_closing else ():
        breaker = make(
            chain, breaker_class, "CircuitBreaker", failure_threshold=2, recovery_timeout=timeout, half_open_max_calls=2
        )
        a_trial_ending_after_closing_changes_nothing(
            chain, _trial_after_closing(chain, breaker, late_fails, start, timeout), late_fails
        )
    if after_closing:
        breaker = make(chain, breaker_class, "CircuitBreaker", failure_threshold=1, recovery_timeout=timeout)
        a_late_success_while_open_changes_nothing(chain, _late_success_while_open(chain, breaker, start, timeout))


@dataclass
class Cancelled:
    """One run of check_breaker_cancelled: the call cancelled at ``at`` (``cancelled``) and what its service
    call did (``service``; None if it was never made), the breaker's state right after, then the call made
    ``after`` it."""

    at: float
    cancelled: Outcome
    service: Outcome | None
    state: object
    after: BreakerCall


async def _two_seconds() -> str:
    """The service call that is cancelled: 2 s, its start and end emitted (the sweep's instants)."""
    emit(Kind.WORK_START, item="cancelled call")
    await asyncio.sleep(2.0)
    emit(Kind.WORK_END, item="cancelled call")
    return "ok"


def _cancelled_call(
    chain: Chain,
    breaker: CircuitBreakerLike,
    half_open: bool,
    at: float,
    start: float,
    timeout: float,
    seen: dict[float, Cancelled],
) -> VirtualRun[Outcome]:
    """Closed (``half_open`` false): at ``start``, a call of 2 s, cancelled ``at``; 3 s after it began, a call of
    1 s. Half open: opened at ``start`` by one failure; when the timeout has run out, trial A (4 s) and the call
    of 2 s (trial B) begin, B cancelled ``at``; 2.5 s after they began, a call of 1 s (C). The run, whose value
    is the cancelled call's Outcome; what else it saw goes in ``seen[at]``."""
    upstream = Upstream()
    service: Spy[[], str] = Spy(_two_seconds, name="service")

    async def main() -> Outcome:
        await asyncio.sleep(start)
        begin = start
        other = None
        if half_open:
            begin = await _open_at(start, breaker, upstream, 1) + timeout
            await sleep_until(begin)
            other = asyncio.create_task(_call(breaker, upstream, upstream.make(duration=4.0)))
        cancelled = await cancelled_at(lambda: breaker.call(service), at)
        state = _state(breaker)
        await sleep_until(begin + (2.5 if half_open else 3.0))
        after = await _call(breaker, upstream, upstream.make(duration=1.0))
        if other is not None:
            await other
        made = service.outcomes[0] if service.outcomes else None
        seen[at] = Cancelled(at, cancelled, made, state, after)
        return cancelled

    return _scenario(chain, main, start + 10 * timeout + 60)


def a_cancelled_call_raises_cancelled_error(chain: Chain, swept: list[Swept], what: str) -> None:
    first_wrong = next((one.outcome for one in swept if not one.outcome.cancelled), None)
    ends_cancelled_at_each_wait(
        chain,
        what,
        swept,
        hint="a cancelled call ends in CancelledError: re-raise the cancellation itself (a bare `raise`), not a "
        "new exception"
        if first_wrong is not None and first_wrong.error is not None
        else "a cancelled call ends in CancelledError: after your bookkeeping, re-raise it (a bare `raise`); "
        "catching BaseException (or CancelledError) and returning turns the cancellation into a value, and "
        "the code that cancelled the call never learns it was",
    )


NOT_A_FAILURE_HINT = (
    "a cancellation is not a failure: CancelledError is a BaseException, not an instance of self.counted "
    "(by default Exception); count a failure, and open, only for isinstance(error, self.counted)"
)


def a_cancelled_call_leaves_the_breaker_working(chain: Chain, seen: Cancelled, what: str, half_open: bool) -> None:
    after = seen.after
    hint = (
        NOT_A_FAILURE_HINT
        if seen.state is BreakerState.OPEN
        else "a cancelled trial ends too: free its slot on every way out, CancelledError included. It is a "
        "BaseException, so `except Exception` misses it: free the slot in a `finally`, or in "
        "`except BaseException` before re-raising"
    )
    chain.require(
        after.made and after.value == "ok",
        f"{what}; a call at t={after.asked:g}, "
        + (
            "while trial A runs, is made: the cancelled trial freed its slot, and a cancellation is no failure"
            if half_open
            else "is made: a cancellation is no failure (failure_threshold=1)"
        ),
        observed=f"that call {after.describe()}; right after the cancellation, breaker.state was "
        f"{_state_name(seen.state)}",
        hint=hint,
    )


@learner_facing
def check_breaker_cancelled(
    breaker_class: type[CircuitBreakerLike],
    *,
    half_open: bool = True,
    timeout: float = 10.0,
    start: float = 3.25,
) -> None:
    """A call is cancelled at each of its waits in turn (as it starts, then in its wait:
    :func:`~coursekit.scenario.sweep_instants`), each time in a fresh breaker. Closed (``half_open=False``,
    threshold 1): its caller gets CancelledError, and the next call is made (a cancellation is no failure).
    Half open (two trial slots): trial B is cancelled while trial A runs; its caller gets CancelledError, and a
    call while A still runs is made: the cancelled trial freed its slot. (Whether a cancelled trial counts as a
    success, the statement does not say: that is not checked.)"""
    chain = Chain("CircuitBreaker")
    settings: dict[str, Any] = {"failure_threshold": 1, "recovery_timeout": timeout}
    if half_open:
        settings["half_open_max_calls"] = 2
    seen: dict[float, Cancelled] = {}
    called = "half open (2 trial slots), trial B" if half_open else "closed, a call"

    def scenario(at: float) -> VirtualRun[Outcome]:
        breaker = make(chain, breaker_class, "CircuitBreaker", **settings)
        return _cancelled_call(chain, breaker, half_open, at, start, timeout, seen)

    def instants(whole: VirtualRun[Outcome]) -> list[float]:  # those of the call of 2 s, made at `asked`
        return sweep_instants(whole, start=whole.unwrap().asked, until=whole.unwrap().asked + 2.0)

    swept = cancellation_sweep(chain, f"{called} (2 s)", scenario, instants=instants)
    whole = seen[UNCANCELLED]
    begin = whole.cancelled.asked
    what = f"{called} made at t={begin:g} (2 s)"
    chain.require(
        whole.service is not None and whole.cancelled.value == "ok",
        f"{what}, not cancelled, is made and returns",
        observed=f"the call {whole.cancelled.describe()}",
        hint=_timer_hint(
            breaker_class,
            timeout,
            BreakerCall(whole.cancelled.asked, whole.cancelled.ended, error=whole.cancelled.error),
            "half open admits half_open_max_calls trial calls at once"
            if half_open
            else "while closed, make every call",
        ),
    )
    a_cancelled_call_raises_cancelled_error(chain, swept, what)
    for one in swept:
        a_cancelled_call_leaves_the_breaker_working(
            chain, seen[one.at], f"{what} and cancelled at t={one.at:g}", half_open
        )


# --------------------------------------------------------------------- protected, fetch_item


class SpyBreaker:
    """A stand-in breaker: ``call`` records what it was given and what happened; open, it rejects."""

    def __init__(self, *, open: bool = False) -> None:
        self.open = open
        self.calls: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = []
        self.raised: list[BaseException | None] = []

    async def call(self, func: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        self.calls.append((func, args, kwargs))
        if self.open:
            raise CircuitOpenError("the spy breaker is open")
        try:
            result = await func(*args, **kwargs)
        except Exception as error:
            self.raised.append(error)
            raise
        self.raised.append(None)
        return result


def _describe_given(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], original: Any) -> str:
    """``(lookup, 3, scale=2)``: what breaker.call was given, the function by name (no address)."""
    if func is original:
        name = "lookup"
    elif isinstance(func, functools.partial):
        name = _describe_given(func.func, func.args, func.keywords, original).join(("functools.partial", ""))
    else:
        name = f"{getattr(func, '__name__', type(func).__name__)} (not the undecorated lookup)"
    return "(" + ", ".join([name, *map(repr, args), *(f"{key}={value!r}" for key, value in kwargs.items())]) + ")"


def _raised_or_returned(run: VirtualRun[Any]) -> str:
    return "raised " + describe_error(run.error) if run.error else "returned " + repr(run.value)


@dataclass
class Decorated:
    """``protected(breaker)(lookup)``: the spy breaker, the undecorated ``lookup`` and the decorated one."""

    breaker: SpyBreaker
    lookup: AsyncFunction
    guarded: AsyncFunction


def _decorate(chain: Chain, protected: Protected) -> Decorated:
    """Decorate ``async def lookup(n, *, scale=1)`` (it takes 1 s) with ``protected(spy breaker)``."""
    breaker = SpyBreaker()

    async def lookup(n: int, *, scale: int = 1) -> int:
        """Look n up."""
        await asyncio.sleep(1.0)
        return n * scale

    try:
        guarded = protected(breaker)(lookup)
    except Exception as error:  # noqa: BLE001  (reported)
        chain.fail(
            "protected(breaker)(lookup) decorates",
            observed=f"raised {describe_error(error)}",
            hint="protected(breaker) returns a decorator: a function that takes func and returns a new async function",
        )
    return Decorated(breaker, lookup, guarded)


def decorating_calls_nothing_and_gives_a_function(chain: Chain, decorated: Decorated) -> None:
    chain.require(
        not decorated.breaker.calls,
        "@protected(breaker) calls nothing when it decorates",
        observed=f"breaker.call was called {len(decorated.breaker.calls)} time(s) at decoration",
        hint="the decorator returns a new function; the breaker is used when that function is called",
    )
    chain.require(
        callable(decorated.guarded),
        "@protected(breaker) gives a function",
        observed=f"it gave {decorated.guarded!r}",
        hint="the decorator returns a new async function: `async def guarded(*args, **kwargs): ...`",
    )


def a_call_goes_through_breaker_call(chain: Chain, decorated: Decorated, run: VirtualRun[Any]) -> None:
    breaker, lookup = decorated.breaker, decorated.lookup
    chain.require(
        breaker.calls == [(lookup, (3,), {"scale": 2})],
        "lookup(3, scale=2), decorated, calls breaker.call(lookup, 3, scale=2) once",
        observed=lambda: (
            "breaker.call was given "
            + (
                "; ".join(_describe_given(func, args, kwargs, lookup) for func, args, kwargs in breaker.calls)
                or "nothing"
            )
        ),
        hint="pass the undecorated function and every argument on: breaker.call(func, *args, **kwargs)",
    )
    chain.require(
        run.value == 6,
        "lookup(3, scale=2), decorated, returns lookup's result",
        observed=f"it returned {run.value!r}",
        hint="return what breaker.call returns",
    )


def keeps_the_name_and_docstring(chain: Chain, guarded: AsyncFunction) -> None:
    chain.require(
        getattr(guarded, "__name__", None) == "lookup" and getattr(guarded, "__doc__", None) == "Look n up.",
        "the decorated function keeps lookup's name and docstring",
        observed=f"its __name__ is {getattr(guarded, '__name__', None)!r}, its __doc__ "
        f"{getattr(guarded, '__doc__', None)!r}",
        hint="decorate the wrapper with @functools.wraps(func)",
        generic=True,
    )


def an_open_breaker_rejection_reaches_the_caller(chain: Chain, protected: Protected, lookup: AsyncFunction) -> None:
    closed = SpyBreaker(open=True)
    run = run_virtual(lambda: protected(closed)(lookup)(1), deadline=60)
    chain.require(
        isinstance(run.error, CircuitOpenError),
        "with an open breaker, the decorated call raises CircuitOpenError",
        observed=f"it {_raised_or_returned(run)}",
        hint="let the breaker's error through: don't catch it",
    )


CANCELLED_HINT = (
    "let the cancellation through: don't catch CancelledError (nor BaseException) around the await, or "
    "re-raise it (a bare `raise`); a cancelled call that returns a value, or raises another error, hides its "
    "cancellation from the code that cancelled it"
)


def _while_it_runs(start: float) -> Callable[[VirtualRun[Outcome]], list[float]]:
    """The sweep's instants for a call made at ``start`` in a scenario that goes on after it: as it starts and
    at each of its waits, until the call (not the scenario) ended (:func:`~coursekit.scenario.sweep_instants`)."""
    return lambda whole: sweep_instants(whole, start=start, until=whole.unwrap().ended)


async def _timed_lookup(n: int, *, scale: int = 1) -> int:
    """Look n up."""
    emit(Kind.WORK_START, item=n)
    await asyncio.sleep(1.0)
    emit(Kind.WORK_END, item=n)
    return n * scale


def each_call_passes_its_own_arguments(chain: Chain, protected: Protected, start: float) -> None:
    """The decorated lookup (1 s), called with (3, scale=2) and cancelled at each of its waits; then called again
    with (5): that second call goes through breaker.call with its own arguments, and returns 5."""

    seen: dict[float, tuple[Outcome, Any]] = {}  # the call after it, and what breaker.call was last given

    def scenario(at: float) -> VirtualRun[Outcome]:
        async def main() -> Outcome:
            breaker = SpyBreaker()
            guarded = protected(breaker)(_timed_lookup)
            await asyncio.sleep(start)
            outcome = await cancelled_at(lambda: guarded(3, scale=2), at)
            seen[at] = await timed_call(guarded(5)), breaker.calls[-1] if breaker.calls else None
            return outcome

        return run_virtual(main, deadline=start + 2000.0)

    what = "lookup(3, scale=2), decorated (1 s)"
    swept = cancellation_sweep(chain, what, scenario, instants=_while_it_runs(start))
    ends_cancelled_at_each_wait(chain, what, swept, hint=CANCELLED_HINT)
    for at in [UNCANCELLED, *(one.at for one in swept)]:
        again, given = seen[at]
        after = "after it ended" if at == UNCANCELLED else f"after it was cancelled at t={at:g}"
        chain.require(
            again.value == 5 and given == (_timed_lookup, (5,), {}),
            f"lookup(5), decorated, called {after}, calls breaker.call(lookup, 5) and returns 5",
            observed=f"it {again.describe()}; breaker.call was last given "
            + (_describe_given(given[0], given[1], given[2], _timed_lookup) if given else "nothing"),
            hint="each call of the decorated function passes its own arguments on, "
            "breaker.call(func, *args, **kwargs): keep nothing of an earlier call",
        )


@learner_facing
def check_protected(protected: Protected, *, cancelled: bool = False, start: float = 1.5) -> None:
    """``@protected(breaker)`` on ``async def lookup(n, *, scale=1)``: decorating calls nothing; each call
    of the result goes through ``breaker.call`` once, with ``lookup`` and the same arguments, and returns
    its result; the name and docstring are kept; an open breaker's CircuitOpenError reaches the caller.
    With ``cancelled``, from ``start``: a decorated call cancelled at each of its waits ends in CancelledError,
    and the next call, with other arguments, goes through with them."""
    chain = Chain("protected")
    chain.require(
        callable(protected),
        "protected is defined",
        observed=f"protected is {protected!r}",
        hint="run the cell that defines `def protected(breaker):`",
    )
    decorated = _decorate(chain, protected)
    decorating_calls_nothing_and_gives_a_function(chain, decorated)
    run = run_scenario(chain, lambda: decorated.guarded(3, scale=2), deadline=60, what="lookup(3, scale=2), decorated")
    a_call_goes_through_breaker_call(chain, decorated, run)
    keeps_the_name_and_docstring(chain, decorated.guarded)
    an_open_breaker_rejection_reaches_the_caller(chain, protected, decorated.lookup)
    if cancelled:
        each_call_passes_its_own_arguments(chain, protected, start)


ITEM_OK, ITEM_DOWN, ITEM_LIMITED = 7, 13, 42


def _items_service(seed: int) -> Service:
    """/items/7 answers, /items/13 is in an outage (503), /items/42 is rate limited (429)."""
    return Service(
        seed=seed,
        endpoints={
            f"/items/{ITEM_DOWN}": Faults(outages=((0.0, 1e9),)),
            f"/items/{ITEM_LIMITED}": Faults(rate_limit=RateLimit(limit=0, window=3600.0)),
        },
    )


class Answering:
    """A stand-in for the course's service that answers every request with ``status`` (a JSON body
    ``{"item": n}`` for ``/items/{n}`` when it is a 2xx, a text one otherwise), ``delay`` seconds after it
    came (emitting work.start and work.end); ``log`` holds the requests."""

    def __init__(self, status: int, delay: float = 0.0) -> None:
        self.status, self.delay = status, delay
        self.log: list[httpx.Request] = []

    async def answer(self, request: httpx.Request) -> httpx.Response:
        self.log.append(request)
        if self.delay:
            emit(Kind.WORK_START, item=str(request.url.path))
            await asyncio.sleep(self.delay)
            emit(Kind.WORK_END, item=str(request.url.path))
        if 200 <= self.status < 300:
            return httpx.Response(self.status, json={"item": int(request.url.path.rsplit("/", 1)[-1])})
        return httpx.Response(self.status, text=f"status {self.status}")

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.answer), base_url="http://items.test")


@dataclass
class Fetched:
    """One ``fetch_item(client, breaker, n)`` against the items service: the run, the service, the spy breaker."""

    run: VirtualRun[Any]
    service: Service | Answering
    breaker: SpyBreaker


def _fetch(
    fetch_item: FetchItem,
    n: int,
    seed: int,
    *,
    start: float | None = None,
    open: bool = False,
    status: int | None = None,
) -> Fetched:
    """``fetch_item(client, breaker, n)`` on the virtual clock (from ``start``, if given), through a spy breaker,
    against the course's service, or a stand-in that answers ``status`` if given."""
    service = _items_service(seed) if status is None else Answering(status)
    breaker = SpyBreaker(open=open)

    async def main() -> Any:
        if start is not None:
            await asyncio.sleep(start)
        async with service.client() as client:
            return await fetch_item(client, breaker, n)

    return Fetched(run_virtual(main, deadline=60 if start is None else start + 60), service, breaker)


def returns_the_json_body(chain: Chain, fetched: Fetched, what: str, n: int) -> None:
    chain.require_finished(fetched.run, what)
    chain.require(
        fetched.run.value == {"item": n},
        f"{what} returns the JSON body",
        observed=f"it returned {fetched.run.value!r}",
        hint="return response.json()",
    )


def sends_one_request_through_the_breaker(chain: Chain, fetched: Fetched, what: str) -> None:
    breaker, service = fetched.breaker, fetched.service
    chain.require(
        len(breaker.calls) == 1 and len(service.log) == 1,
        f"{what} sends one request, through breaker.call",
        observed=f"breaker.call was called {len(breaker.calls)} time(s); the service got {len(service.log)} request(s)",
        hint="one request per fetch_item call: don't call breaker.call again after an error (retries belong "
        "around fetch_item, chapter 6's retry)"
        if len(breaker.calls) > 1
        else "make the request inside the function you give breaker.call, once: "
        "`await breaker.call(get)` where `get` does `await client.get(f'/items/{n}')`",
    )


def a_5xx_raises_upstream_error_inside_the_breaker(
    chain: Chain, fetched: Fetched, what: str, n: int, status: int = 503
) -> None:
    inside = fetched.breaker.raised[0] if fetched.breaker.raised else None
    chain.require(
        isinstance(inside, UpstreamError) and getattr(inside, "status", None) == status,
        f"{what} raises UpstreamError({status}) inside breaker.call, where the breaker counts it",
        observed=f"the function given to breaker.call "
        f"{'raised ' + describe_error(inside).splitlines()[0] if inside else 'returned (the breaker saw a success)'}"
        + (f", with status {getattr(inside, 'status', None)!r}" if isinstance(inside, UpstreamError) else ""),
        hint="httpx does not raise on a 503: it returns the response. Check response.is_server_error "
        "inside the function you give the breaker, and raise UpstreamError(response.status_code) there"
        if status == 503
        else f"every 5xx answer is the service failing, not only 503: {status} too. Test the whole class, "
        "response.is_server_error (500 to 599), and raise UpstreamError(response.status_code, path) with the "
        "status the service sent",
    )
    chain.require(
        getattr(inside, "path", None) == f"/items/{n}",
        f"{what}: the UpstreamError names the request's path, UpstreamError({status}, '/items/{n}')",
        observed=f"its path is {getattr(inside, 'path', None)!r} ({describe_error(inside)})",
        hint="give UpstreamError the path too: UpstreamError(response.status_code, f'/items/{n}'), so that "
        "the error says which request failed",
    )
    chain.require(
        fetched.run.error is inside,
        f"{what} lets that UpstreamError reach the caller",
        observed=f"fetch_item {'raised ' + describe_error(fetched.run.error) if fetched.run.error else 'returned'}",
        hint="don't catch it outside the breaker",
    )


def a_4xx_is_not_an_upstream_error(chain: Chain, fetched: Fetched, what: str) -> None:
    inside = fetched.breaker.raised[0] if fetched.breaker.raised else None
    returned = fetched.run.value if fetched.run.error is None else None
    chain.require(
        isinstance(inside, httpx.HTTPStatusError) and not isinstance(inside, UpstreamError),
        f"{what} raises httpx.HTTPStatusError, not UpstreamError: a 4xx is not the service failing",
        observed=f"the function given to breaker.call "
        f"{'raised ' + describe_error(inside) if inside else 'returned (no error)'}"
        + ("" if inside else f"; fetch_item returned {returned!r}"),
        hint="every 4xx answer raises httpx.HTTPStatusError, whichever it is (a 404 too): call "
        "response.raise_for_status() after the 5xx test, don't answer some 4xx with a value of your own"
        if inside is None
        else "UpstreamError is for 5xx answers only (response.is_server_error); for a 4xx, response.raise_for_status()",
    )


@learner_facing
def check_fetch_item(
    fetch_item: FetchItem,
    *,
    seed: int = 7,
    start: float = 2.25,
    statuses: tuple[int, ...] = (),
    cancelled: bool = False,
) -> None:
    """Against the course's service, through a spy breaker: item 7 gives its JSON body; item 13 (503)
    raises UpstreamError with status 503 inside ``breaker.call``; item 42 (429) raises
    httpx.HTTPStatusError, not an UpstreamError (a 4xx is not the service failing). Then, for each of
    ``statuses``, a stand-in service answering it (item 1000 + status): a 2xx gives the JSON body, a 5xx
    raises UpstreamError with that status, a 4xx httpx.HTTPStatusError; one request each, through the breaker.
    With ``cancelled``, a fetch_item cancelled at each of its waits ends in CancelledError, and the next one on
    the same client returns its body."""
    chain = Chain("fetch_item")
    chain.require_async_function(fetch_item, "fetch_item")
    items = [(n, status, None) for n, status in ((ITEM_OK, 200), (ITEM_DOWN, 503), (ITEM_LIMITED, 429))]
    for n, status, answering in items + [(1000 + status, status, status) for status in statuses]:
        fetched = _fetch(fetch_item, n, seed, start=start, status=answering)
        what = f"fetch_item(client, breaker, {n}), the service answering {status}"
        if 200 <= status < 300:
            returns_the_json_body(chain, fetched, what, n)
        sends_one_request_through_the_breaker(chain, fetched, what)
        if 500 <= status < 600:
            a_5xx_raises_upstream_error_inside_the_breaker(chain, fetched, what, n, status)
        elif 400 <= status < 500:
            a_4xx_is_not_an_upstream_error(chain, fetched, what)
    if cancelled:
        a_cancelled_fetch_raises_cancelled_error(chain, fetch_item, start)


def a_cancelled_fetch_raises_cancelled_error(chain: Chain, fetch_item: FetchItem, start: float) -> None:
    """fetch_item(client, breaker, 7) against a service answering 200 after 1 s, cancelled at each of its waits;
    after each, fetch_item(client, breaker, 8) on the same client returns its body (the client still works)."""

    seen: dict[float, Outcome] = {}  # the next fetch_item on the same client

    def scenario(at: float) -> VirtualRun[Outcome]:
        async def main() -> Outcome:
            service = Answering(200, delay=1.0)
            await asyncio.sleep(start)
            async with service.client() as client:
                outcome = await cancelled_at(lambda: fetch_item(client, SpyBreaker(), ITEM_OK), at)
                seen[at] = await timed_call(fetch_item(client, SpyBreaker(), ITEM_OK + 1))
            return outcome

        return run_virtual(main, deadline=start + 2000.0)

    what = f"fetch_item(client, breaker, {ITEM_OK}), the service answering 200 after 1 s"
    swept = cancellation_sweep(chain, what, scenario, instants=_while_it_runs(start))
    ends_cancelled_at_each_wait(chain, what, swept, hint=CANCELLED_HINT)
    for at in [UNCANCELLED, *(one.at for one in swept)]:
        again = seen[at]
        after = "after it ended" if at == UNCANCELLED else f"after it was cancelled at t={at:g}"
        chain.require(
            again.error is None and again.value == {"item": ITEM_OK + 1},
            f"fetch_item(client, breaker, {ITEM_OK + 1}) on the same client, {after}, returns the JSON body",
            observed=f"it {again.describe()}",
            hint="a call of fetch_item keeps nothing for the next: make each request with the client given, inside "
            "the function you give breaker.call",
        )


@learner_facing
def check_fetch_item_open(fetch_item: FetchItem, *, seed: int = 7) -> None:
    """With an open (spy) breaker: fetch_item raises CircuitOpenError and sends no request at all."""
    chain = Chain("fetch_item")
    chain.require_async_function(fetch_item, "fetch_item")
    fetched = _fetch(fetch_item, ITEM_OK, seed, open=True)
    what = f"fetch_item(client, breaker, {ITEM_OK}), the breaker open"
    chain.require(
        not fetched.service.log,
        f"{what} sends no request",
        observed=f"the service got {len(fetched.service.log)} request(s)",
        hint="the request must be made inside the function you give breaker.call, so that an open breaker "
        "can refuse to make it; don't send it first and hand the response to the breaker",
    )
    chain.require(
        isinstance(fetched.run.error, CircuitOpenError),
        f"{what} raises CircuitOpenError",
        observed=f"fetch_item {_raised_or_returned(fetched.run)}",
        hint="let the breaker's CircuitOpenError reach the caller",
    )
