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
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from coursekit.chapters.circuit_breaker.analysis import breaker_transitions
from coursekit.chapters.circuit_breaker.given import BreakerState, CircuitOpenError, UpstreamError
from coursekit.checks import Chain, describe_error, learner_facing
from coursekit.scenario import make, run_scenario, sleep_until
from coursekit.service import Faults, RateLimit, Service
from coursekit.virtual_time import VirtualRun, run_virtual


class ServiceDown(Exception):
    """The error the checks' upstream raises when a call fails."""


class NotCounted(Exception):
    """An error the breaker is told not to count (e.g. a 404: the service answered)."""


@dataclass
class Upstream:
    """A service stand-in: ``make(fails, duration)`` is an async function of no arguments that
    takes ``duration`` seconds, then returns ``"ok"`` or raises ``error``; each call is recorded."""

    calls: list[float] = field(default_factory=list)

    def make(self, fails: bool = False, duration: float = 0.0, error: Exception | None = None) -> Callable[[], Any]:
        async def service_call() -> str:
            self.calls.append(asyncio.get_running_loop().time())
            if duration:
                await asyncio.sleep(duration)
            if fails:
                raise error if error is not None else ServiceDown("the service is down")
            return "ok"

        return service_call

    def lookup(self) -> Callable[..., Any]:
        """An async function ``lookup(n, *, scale=1)`` that returns ``n * scale`` at once; each call is recorded."""

        async def lookup(n: int, *, scale: int = 1) -> int:
            self.calls.append(asyncio.get_running_loop().time())
            return n * scale

        return lookup


@dataclass
class Outcome:
    """What one ``breaker.call`` did: when it was asked, when it ended, whether the upstream was
    called, and the result or the error."""

    asked: float
    ended: float | None = None
    made: bool = False
    value: Any = None
    error: BaseException | None = None

    def describe(self) -> str:
        what = f"raised {describe_error(self.error)}" if self.error is not None else f"returned {self.value!r}"
        made = "the service was called" if self.made else "the service was not called"
        return f"{what} at t={self.ended:g} ({made})"


async def _call(breaker: Any, upstream: Upstream, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Outcome:
    loop = asyncio.get_running_loop()
    outcome = Outcome(loop.time())
    before = len(upstream.calls)
    try:
        outcome.value = await breaker.call(func, *args, **kwargs)
    except Exception as error:  # noqa: BLE001  (every error is observed and reported)
        outcome.error = error
    outcome.ended = loop.time()
    outcome.made = len(upstream.calls) > before
    return outcome


HANG_HINT = (
    "a breaker must never wait for a lock it already holds, nor hold one while the call runs: "
    "asyncio.Lock is not reentrant (document 001's breaker hangs on its first call this way)"
)


def _run(chain: Chain, main: Callable[[], Awaitable[Any]], deadline: float) -> Any:
    run = run_scenario(chain, main, deadline=deadline, hang_hint=HANG_HINT)
    return run.value, run


def _state(breaker: Any) -> Any:
    return getattr(breaker, "state", None)


def _state_name(state: Any) -> str:
    return state.name if isinstance(state, BreakerState) else repr(state)


def _require_rejected(chain: Chain, what: str, outcome: Outcome, *, wait_hint: str) -> None:
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


def _require_transitions(
    chain: Chain, run: VirtualRun[Any], expected: list[tuple[str, str]], *, name: str | None = None, during: str = ""
) -> None:
    """The breaker.state events of ``run`` are ``expected``; ``during`` names the part of the scenario."""
    seen = [(old, new) for _, old, new in breaker_transitions(run.events)]
    chain.require(
        seen == expected,
        f"{during}every transition is an event, in order: " + ", ".join(f"{old} -> {new}" for old, new in expected),
        observed=f"the breaker.state events were: {', '.join(f'{old} -> {new}' for old, new in seen) or 'none'}",
        hint="change state only through self._move_to(new_state), which emits the event; never assign "
        "self.state directly, and move only when the state really changes",
    )
    if name is None:
        return
    named = breaker_transitions(run.events, name)
    chain.require(
        len(named) == len(seen),
        f"every breaker.state event carries the breaker's name, {name!r}",
        observed=f"{len(named)} of the {len(seen)} breaker.state events have name={name!r}",
        hint="keep the given constructor (self.name = name) and the given _move_to, which emits name=self.name",
    )


# --------------------------------------------------------------------- CircuitBreaker


@learner_facing
def check_breaker_trips(breaker_class: Any, *, threshold: int = 3, start: float = 5.25) -> None:
    """Calls one second apart: ``threshold - 1`` failures, a success, ``threshold - 1`` failures (still
    closed: a success resets the count), then the ``threshold``-th consecutive failure: it is made and its
    error reaches the caller, and it opens the breaker; the next call is rejected without being made."""
    chain = Chain("CircuitBreaker")
    breaker = make(
        chain, breaker_class, "CircuitBreaker", failure_threshold=threshold, recovery_timeout=60.0, name="items"
    )
    upstream = Upstream()
    plan = [True] * (threshold - 1) + [False] + [True] * threshold + [False]

    async def main() -> list[Outcome]:
        await asyncio.sleep(start)
        outcomes = []
        for fails in plan:
            if fails:
                outcomes.append(await _call(breaker, upstream, upstream.make(fails=True)))
            else:
                outcomes.append(await _call(breaker, upstream, upstream.lookup(), 3, scale=2))
            await asyncio.sleep(1.0)
        return outcomes

    outcomes, run = _run(chain, main, start + 10 * len(plan))
    number = plan.index(True) + 1
    first = outcomes[number - 1]
    chain.require(
        first.made and isinstance(first.error, ServiceDown),
        "while closed, a failing call is made and its error reaches the caller unchanged",
        observed=f"call {number} {first.describe()}",
        hint="await func(*args, **kwargs) and re-raise what it raises (`raise`, not a new exception)",
    )
    number = threshold
    success = outcomes[number - 1]
    chain.require(
        success.made and success.error is None and success.value == 6,
        f"call {number}, breaker.call(lookup, 3, scale=2), returns lookup(3, scale=2) == 6",
        observed=f"call {number} {success.describe()}",
        hint=f"only {threshold - 1} failure(s) came before this call: open only when the count of consecutive "
        "failures reaches failure_threshold"
        if isinstance(success.error, CircuitOpenError)
        else "pass every argument on, positional and keyword: await func(*args, **kwargs), and return its result",
    )
    for number, outcome in enumerate(outcomes[: 2 * threshold - 1], 1):
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
    nth = outcomes[2 * threshold - 1]
    chain.require(
        nth.made and isinstance(nth.error, ServiceDown),
        f"failure {threshold} in a row (t={nth.asked:g}) is made, and its error reaches the caller",
        observed=f"that call {nth.describe()}",
        hint="the caller of the failure that opens the breaker gets that failure's own error: count it, open, "
        "and re-raise it (`raise`); only the calls after it are rejected"
        if nth.made
        else "the threshold-th failure is recorded, not rejected: make the call, count its failure, then open",
    )
    after = outcomes[-1]
    what = f"the call after failure {threshold} in a row (t={after.asked:g})"
    if after.made:
        chain.fail(
            f"{what} is rejected without calling the service",
            observed=f"the call {after.describe()}",
            hint="open the breaker when the count *reaches* failure_threshold (>=): gobreaker's "
            "`ConsecutiveFailures > 5` trips at the 6th failure, one late. And count every error that is an "
            "instance of self.counted (isinstance(error, self.counted): subclasses too; by default every Exception)"
            if _state(breaker) is not BreakerState.OPEN
            else "while open, raise CircuitOpenError before calling func",
        )
    _require_rejected(chain, what, after, wait_hint="while open, raise before calling func")
    chain.require(
        _state(breaker) is BreakerState.OPEN,
        "the breaker's state is BreakerState.OPEN",
        observed=f"breaker.state is {_state_name(_state(breaker))}",
        hint="use the given BreakerState enum",
    )
    _require_transitions(chain, run, [("closed", "open")], name="items")


@learner_facing
def check_breaker_counts(breaker_class: Any, *, threshold: int = 2, start: float = 3.5) -> None:
    """With ``counted=(ServiceDown,)``: ``2 * threshold`` calls raising another error (NotCounted) pass
    their error through and do not open it; then ``threshold - 1`` ServiceDown failures, a NotCounted (a
    success: the count goes back to 0), and ``threshold`` ServiceDown failures, which open it."""
    chain = Chain("CircuitBreaker")
    breaker = make(
        chain,
        breaker_class,
        "CircuitBreaker",
        failure_threshold=threshold,
        recovery_timeout=60.0,
        counted=(ServiceDown,),
    )
    upstream = Upstream()

    async def main() -> list[Outcome]:
        await asyncio.sleep(start)
        outcomes = []
        for not_counted in plan:
            error = NotCounted("404") if not_counted else None
            outcomes.append(await _call(breaker, upstream, upstream.make(fails=True, error=error)))
        return outcomes

    plan = [True] * (2 * threshold) + [False] * (threshold - 1) + [True] + [False] * (threshold + 1)
    reset = 3 * threshold  # the NotCounted call between the ServiceDown failures
    outcomes, _ = _run(chain, main, start + 60)
    for number, outcome in enumerate(outcomes[:-1], 1):
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
    chain.require(
        isinstance(outcomes[-1].error, CircuitOpenError) and not outcomes[-1].made,
        f"after {threshold} ServiceDown failures in a row the next call is rejected",
        observed=f"that call {outcomes[-1].describe()}",
        hint="a counted exception is a failure: count it, and open at failure_threshold",
    )


def _trip(breaker: Any, upstream: Upstream, failures: int) -> Callable[[], Awaitable[float]]:
    async def trip() -> float:
        for _ in range(failures):
            await _call(breaker, upstream, upstream.make(fails=True))
        return asyncio.get_running_loop().time()

    return trip


@learner_facing
def check_breaker_rejects_while_open(
    breaker_class: Any, *, timeout: float = 30.0, epsilon: float = 0.25, start: float = 7.25
) -> None:
    """Opened at ``start`` (one failure, threshold 1): calls at ``timeout / 2`` and ``timeout - epsilon``
    after it are rejected without being made; a call at ``timeout + epsilon`` is made; in a second run,
    a call at exactly ``timeout`` after it is made too (the wait is over)."""
    chain = Chain("CircuitBreaker")
    for probes in ((timeout / 2, timeout - epsilon, timeout + epsilon), (timeout - epsilon, timeout)):
        breaker = make(chain, breaker_class, "CircuitBreaker", failure_threshold=1, recovery_timeout=timeout)
        upstream = Upstream()

        async def main(breaker: Any = breaker, upstream: Upstream = upstream, probes: Any = probes) -> Any:
            await asyncio.sleep(start)
            opened = await _trip(breaker, upstream, 1)()
            outcomes = []
            for offset in probes:
                await sleep_until(opened + offset)
                outcomes.append((offset, await _call(breaker, upstream, upstream.make())))
            return opened, outcomes

        (opened, outcomes), _ = _run(chain, main, start + 10 * timeout + 10)
        for offset, outcome in outcomes:
            what = f"a call at t={outcome.asked:g}, {offset:g} s after the breaker opened"
            if offset < timeout:
                _require_rejected(
                    chain,
                    what,
                    outcome,
                    wait_hint="while open, reject every call until recovery_timeout seconds after it opened",
                )
                continue
            wall_clock = outcome.error is not None and isinstance(outcome.error, CircuitOpenError)
            chain.require(
                outcome.made and outcome.error is None and outcome.value == "ok",
                f"{what} is made: the recovery timeout has passed"
                + (" (at exactly opened_at + recovery_timeout, the wait is over)" if offset == timeout else ""),
                observed=f"the call {outcome.describe()}",
                hint="at opened_at + recovery_timeout the wait is over: compare with >=, not >"
                if offset == timeout and wall_clock
                else "measure on the loop's clock, asyncio.get_running_loop().time(): time.time() and "
                "time.monotonic() are other clocks, and do not move with the loop's (virtual) time"
                if wall_clock
                else "when the wait is over, move to half open and make the call",
            )


def _concurrent(
    breaker: Any, upstream: Upstream, funcs: list[Callable[[], Any]]
) -> Callable[[], Awaitable[list[Outcome]]]:
    async def together() -> list[Outcome]:
        tasks = [asyncio.create_task(_call(breaker, upstream, func)) for func in funcs]
        return list(await asyncio.gather(*tasks))

    return together


@learner_facing
def check_breaker_half_open_limit(
    breaker_class: Any, *, limit: int = 2, extra: int = 2, timeout: float = 10.0, start: float = 2.5
) -> None:
    """Opened at ``start``; at ``start + timeout``, ``limit + extra`` calls arrive at once, each taking 2 s:
    exactly ``limit`` are made (trial calls); the other ``extra`` are rejected at once with CircuitOpenError."""
    chain = Chain("CircuitBreaker")
    breaker = make(
        chain, breaker_class, "CircuitBreaker", failure_threshold=1, recovery_timeout=timeout, half_open_max_calls=limit
    )
    upstream = Upstream()

    async def main() -> list[Outcome]:
        await asyncio.sleep(start)
        opened = await _trip(breaker, upstream, 1)()
        await sleep_until(opened + timeout)
        funcs = [upstream.make(duration=2.0) for _ in range(limit + extra)]
        return await _concurrent(breaker, upstream, funcs)()

    outcomes, _ = _run(chain, main, start + 10 * timeout + 10)
    made = [outcome for outcome in outcomes if outcome.made]
    what = f"of {limit + extra} calls arriving together at t={start + timeout:g}, half open"
    waited = [t for t in upstream.calls if t > start + timeout]
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
        else "half open admits half_open_max_calls trial calls at once, not fewer",
    )
    for outcome in outcomes:
        if outcome.made:
            continue
        _require_rejected(
            chain,
            f"{what}, a call beyond the {limit} trial slots",
            outcome,
            wait_hint="reject the calls beyond the trial slots",
        )


@learner_facing
def check_breaker_reopens(
    breaker_class: Any, *, threshold: int = 2, timeout: float = 10.0, epsilon: float = 0.25, start: float = 4.75
) -> None:
    """Opened at ``start`` by ``threshold`` failures; the trial call at ``start + timeout`` fails after 1 s:
    the breaker opens again at once (one trial failure is enough, whatever the threshold), with a fresh
    timer: a call ``timeout - epsilon`` after that failure is rejected (the old timer would have let it
    through), one ``timeout + epsilon`` after it is made."""
    chain = Chain("CircuitBreaker")
    breaker = make(chain, breaker_class, "CircuitBreaker", failure_threshold=threshold, recovery_timeout=timeout)
    upstream = Upstream()

    async def main() -> tuple[Outcome, Any, list[Outcome]]:
        await asyncio.sleep(start)
        opened = await _trip(breaker, upstream, threshold)()
        await sleep_until(opened + timeout)
        trial = await _call(breaker, upstream, upstream.make(fails=True, duration=1.0))
        state = _state(breaker)
        later = []
        for offset in (timeout - epsilon, timeout + epsilon):
            await sleep_until(trial.asked + 1.0 + offset)
            later.append(await _call(breaker, upstream, upstream.make()))
        return trial, state, later

    (trial, state, later), run = _run(chain, main, start + 10 * timeout + 10)
    what = f"the trial call at t={start + timeout:g}"
    chain.require(
        trial.made and isinstance(trial.error, ServiceDown),
        f"{what} is made, and its error reaches the caller",
        observed=f"the trial call {trial.describe()}",
        hint="once the recovery timeout has passed, move to half open and make the call",
    )
    chain.require(
        state is BreakerState.OPEN,
        f"{what} fails at t={trial.ended:g}: the breaker is open again at once",
        observed=f"right after, breaker.state is {_state_name(state)}",
        hint="any failure of a trial call reopens the breaker at once, whatever failure_threshold says: "
        "the threshold counts failures while closed only",
    )
    failed_at = trial.ended or 0.0
    early, late = later
    _require_rejected(
        chain,
        f"a call at t={early.asked:g}, {timeout - epsilon:g} s after the trial failed",
        early,
        wait_hint="reopening starts a fresh timer: set opened_at to the loop's time of the trial's failure",
    )
    chain.require(
        late.made and late.value == "ok",
        f"a call at t={late.asked:g}, {timeout + epsilon:g} s after the trial failed at t={failed_at:g}, is made",
        observed=f"the call {late.describe()}",
        hint="after the fresh timer runs out, half open again: make the call",
    )
    _require_transitions(
        chain,
        run,
        [
            ("closed", "open"),
            ("open", "half_open"),
            ("half_open", "open"),
            ("open", "half_open"),
            ("half_open", "closed"),
        ],
    )


@learner_facing
def check_breaker_closes(
    breaker_class: Any, *, limit: int = 3, threshold: int = 2, timeout: float = 5.0, start: float = 1.5
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
    upstream = Upstream()

    async def main() -> tuple[list[tuple[Outcome, Any]], list[tuple[Outcome, Any]]]:
        await asyncio.sleep(start)
        opened = await _trip(breaker, upstream, threshold)()
        await sleep_until(opened + timeout)
        trials = []
        for _ in range(limit):
            outcome = await _call(breaker, upstream, upstream.make(duration=1.0))
            trials.append((outcome, _state(breaker)))
        failures = []
        for _ in range(threshold):
            outcome = await _call(breaker, upstream, upstream.make(fails=True))
            failures.append((outcome, _state(breaker)))
        return trials, failures

    (trials, failures), run = _run(chain, main, start + 10 * timeout + 10 * limit + 10)
    for number, (outcome, state) in enumerate(trials, 1):
        expected = BreakerState.CLOSED if number == limit else BreakerState.HALF_OPEN
        chain.require(
            outcome.made and outcome.value == "ok",
            f"trial call {number} of {limit} (t={outcome.asked:g}) is made and returns",
            observed=f"the call {outcome.describe()}",
            hint="half open admits trial calls one at a time as long as slots are free: free a trial's slot "
            "when it ends",
        )
        chain.require(
            state is expected,
            f"after {number} successful trial call(s) of {limit}, the breaker is {expected.name}",
            observed=f"breaker.state is {_state_name(state)}",
            hint="close only after half_open_max_calls successful trials (document 002 closes after one)"
            if expected is BreakerState.HALF_OPEN
            else "count the successful trials; at half_open_max_calls, close",
        )
    for number, (outcome, state) in enumerate(failures, 1):
        expected = BreakerState.OPEN if number == threshold else BreakerState.CLOSED
        chain.require(
            outcome.made and state is expected,
            f"closed again, failure {number} of {threshold} in a row leaves it {expected.name}",
            observed=f"that call {outcome.describe()}; then breaker.state is {_state_name(state)}",
            hint="closing resets the counts: set the consecutive failures (and the trial counts) back to 0",
        )
    _require_transitions(
        chain, run, [("closed", "open"), ("open", "half_open"), ("half_open", "closed"), ("closed", "open")]
    )


@learner_facing
def check_breaker_defaults(breaker_class: Any, *, start: float = 2.75) -> None:
    """``CircuitBreaker()``, the given constructor's defaults: calls one second apart, 4 failures leave it
    closed, the 5th opens it; a call 29.75 s after it opened is rejected, one at exactly 30 s is a trial
    call that succeeds and closes it (one trial); every event is named ``"breaker"``."""
    chain = Chain("CircuitBreaker")
    breaker = make(chain, breaker_class, "CircuitBreaker")
    upstream = Upstream()

    async def main() -> tuple[list[tuple[Outcome, Any]], Outcome, Outcome, Any]:
        await asyncio.sleep(start)
        failures = []
        for _ in range(5):
            failures.append((await _call(breaker, upstream, upstream.make(fails=True)), _state(breaker)))
            await asyncio.sleep(1.0)
        opened = failures[-1][0].ended or 0.0
        await sleep_until(opened + 29.75)
        early = await _call(breaker, upstream, upstream.make())
        await sleep_until(opened + 30.0)
        trial = await _call(breaker, upstream, upstream.make())
        return failures, early, trial, _state(breaker)

    (failures, early, trial, state), run = _run(chain, main, start + 120)
    for number, (outcome, after) in enumerate(failures, 1):
        expected = BreakerState.OPEN if number == 5 else BreakerState.CLOSED
        chain.require(
            outcome.made and after is expected,
            f"failure {number} in a row is made and leaves it {expected.name} (failure_threshold defaults to 5)",
            observed=f"that call {outcome.describe()}; then breaker.state is {_state_name(after)}",
            hint="keep the given constructor and its defaults: failure_threshold=5, recovery_timeout=30.0, "
            "half_open_max_calls=1, counted=(Exception,), name='breaker'",
        )
    opened = failures[-1][0].ended or 0.0
    _require_rejected(
        chain,
        f"a call at t={early.asked:g}, 29.75 s after it opened at t={opened:g},",
        early,
        wait_hint="the wait lasts recovery_timeout (30.0 s by default: keep the given constructor's defaults) "
        "from the failure that opened the breaker, not from an earlier failure",
    )
    chain.require(
        trial.made and trial.value == "ok" and state is BreakerState.CLOSED,
        f"a call at t={trial.asked:g}, 30 s after it opened (recovery_timeout defaults to 30.0), "
        "is made, and its success closes the breaker (half_open_max_calls defaults to 1)",
        observed=f"the call {trial.describe()}; then breaker.state is {_state_name(state)}",
        hint="keep the given constructor and its defaults: failure_threshold=5, recovery_timeout=30.0, "
        "half_open_max_calls=1, counted=(Exception,), name='breaker'",
    )
    _require_transitions(
        chain, run, [("closed", "open"), ("open", "half_open"), ("half_open", "closed")], name="breaker"
    )


@learner_facing
def check_breaker_trial_outcomes(
    breaker_class: Any, *, limit: int = 3, timeout: float = 10.0, start: float = 6.5
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
    upstream = Upstream()
    durations = [1.0] * (limit - 2) + [3.0] * 3

    async def main() -> Any:
        await asyncio.sleep(start)
        opened = await _trip(breaker, upstream, 1)()
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
        return first, first_state, second, second_state, burst_at, burst, mid_state

    (first, first_state, second, second_state, burst_at, burst, mid_state), _ = _run(
        chain, main, start + 10 * timeout + 60
    )
    chain.require(
        first.made and first.value == "ok" and first_state is BreakerState.HALF_OPEN,
        f"trial call 1 (t={first.asked:g}) is made and succeeds; 1 successful trial of {limit}: still HALF_OPEN",
        observed=f"the call {first.describe()}; then breaker.state is {_state_name(first_state)}",
        hint="once the recovery timeout has passed, make the trial call; close only after half_open_max_calls "
        "successful trials",
    )
    chain.require(
        second.made and isinstance(second.error, NotCounted) and second_state is BreakerState.HALF_OPEN,
        f"trial call 2 (t={second.asked:g}) is made, its NotCounted error reaches the caller, and "
        f"the breaker stays HALF_OPEN (2 successful trials of {limit})",
        observed=f"the call {second.describe()}; then breaker.state is {_state_name(second_state)}",
        hint="an error that is not counted is not a failure, in half open too: re-raise it, don't reopen",
    )
    made = [outcome for outcome in burst if outcome.made]
    what = (
        f"after a trial that succeeded and a trial that raised NotCounted, of {limit + 1} calls "
        f"arriving together at t={burst_at:g}"
    )
    chain.require(
        len(made) == limit,
        f"{what}, exactly {limit} are made: every trial that ended freed its slot",
        observed=f"{len(made)} were made",
        hint="free a trial's slot exactly once when it ends, whether it succeeded, failed, or raised an error "
        "that is not counted (self.trials -= 1 on every way out)"
        if len(made) < limit
        else "free a trial's slot once, not more: a freed slot that was never taken lets extra trials through",
    )
    for outcome in burst:
        if not outcome.made:
            _require_rejected(
                chain, f"{what}, a call beyond the {limit} trial slots", outcome, wait_hint="reject it at once"
            )
    chain.require(
        mid_state is BreakerState.CLOSED,
        f"{what}: at t={burst_at + 1.5:g}, when the {limit - 2} call(s) of 1 s have succeeded, {limit} trials "
        "have succeeded (the NotCounted one included: the service did answer), and the breaker is CLOSED",
        observed=f"breaker.state is {_state_name(mid_state)}",
        hint="an error that is not counted counts as a success, for a trial too: count it among the successful trials",
    )


@learner_facing
def check_breaker_late_calls(breaker_class: Any, *, timeout: float = 10.0, start: float = 4.25) -> None:
    """Calls that end after the period that made them change nothing. Run 1 (threshold 2): three calls made
    together while closed fail after 1, 2 and 4 s; the second opens the breaker; the third fails while it is
    open, and the timer still runs from the opening: a call ``timeout`` s after it is made. Runs 2 and 3
    (threshold 1, two trial slots): opened at ``start``; at ``start + timeout`` trial A fails after 1 s
    (reopens) while trial B takes ``timeout + 3`` s; ``timeout`` s after A failed, trial C (4 s) starts; B
    ends during C, succeeding (run 2) or failing (run 3): B belongs to the earlier half-open period, so after
    C has succeeded the breaker is still HALF_OPEN (1 successful trial of 2)."""
    chain = Chain("CircuitBreaker")
    breaker = make(chain, breaker_class, "CircuitBreaker", failure_threshold=2, recovery_timeout=timeout)
    upstream = Upstream()

    async def closed_run() -> tuple[list[Outcome], Outcome]:
        await asyncio.sleep(start)
        together = [upstream.make(fails=True, duration=d) for d in (1.0, 2.0, 4.0)]
        outcomes = await _concurrent(breaker, upstream, together)()
        await sleep_until(start + 2.0 + timeout)
        return outcomes, await _call(breaker, upstream, upstream.make())

    (outcomes, later), run = _run(chain, closed_run, start + 10 * timeout + 60)
    what = f"run 1 (failure_threshold=2): three calls made together at t={start:g} fail after 1, 2, 4 s"
    chain.require(
        all(outcome.made and isinstance(outcome.error, ServiceDown) for outcome in outcomes),
        f"{what}: all three are made and their errors reach their callers",
        observed="; ".join(f"call {number} {outcome.describe()}" for number, outcome in enumerate(outcomes, 1)),
        hint="while closed, every call is made; re-raise its error",
    )
    chain.require(
        later.made and later.value == "ok",
        f"{what}; the second opens it at t={start + 2:g}, the third fails while it is open and changes nothing: "
        f"a call at t={later.asked:g}, {timeout:g} s after it opened, is made",
        observed=f"the call {later.describe()}",
        hint="a call made while closed that fails after the breaker has opened is not counted: count a failure "
        "only while the state is still CLOSED (it must not reopen the breaker nor restart its timer)",
    )
    _require_transitions(
        chain, run, [("closed", "open"), ("open", "half_open"), ("half_open", "closed")], during=f"{what}: "
    )
    for late_fails in (False, True):
        number = 3 if late_fails else 2
        breaker = make(
            chain, breaker_class, "CircuitBreaker", failure_threshold=1, recovery_timeout=timeout, half_open_max_calls=2
        )
        upstream = Upstream()

        async def half_open_run(
            breaker: Any = breaker, upstream: Upstream = upstream, late_fails: bool = late_fails
        ) -> Any:
            await asyncio.sleep(start)
            opened = await _trip(breaker, upstream, 1)()
            await sleep_until(opened + timeout)
            a = asyncio.create_task(_call(breaker, upstream, upstream.make(fails=True, duration=1.0)))
            b = asyncio.create_task(_call(breaker, upstream, upstream.make(fails=late_fails, duration=timeout + 3)))
            first = await a
            await sleep_until((first.ended or 0.0) + timeout)
            c = await _call(breaker, upstream, upstream.make(duration=4.0))
            state = _state(breaker)
            return first, await b, c, state

        (a, b, c, state), run = _run(chain, half_open_run, start + 10 * timeout + 60)
        what = (
            f"run {number} (failure_threshold=1, half_open_max_calls=2): trial A fails at "
            f"t={a.ended:g} and reopens the breaker; trial B, made at t={b.asked:g}, "
            f"{'fails' if late_fails else 'succeeds'} at t={b.ended:g}, during trial C of the next half-open "
            f"period (t={c.asked:g} to t={c.ended:g})"
        )
        chain.require(
            a.made and isinstance(a.error, ServiceDown) and b.made and c.made and c.value == "ok",
            f"{what}: A, B and C are made, and each caller gets its call's result or error",
            observed=f"A {a.describe()}; B {b.describe()}; C {c.describe()}",
            hint="half open admits half_open_max_calls trial calls at once; a failed trial reopens the breaker",
        )
        chain.require(
            (isinstance(b.error, ServiceDown) if late_fails else b.value == "ok"),
            f"{what}: B's {'error' if late_fails else 'result'} reaches its caller",
            observed=f"B {b.describe()}",
            hint="return the call's result, re-raise its error, whatever the breaker's state is by then",
        )
        chain.require(
            state is BreakerState.HALF_OPEN,
            f"{what}: B belongs to the earlier period and changes nothing; after C succeeded, the breaker is "
            "HALF_OPEN (1 successful trial of 2)",
            observed=f"breaker.state is {_state_name(state)}",
            hint="remember which half-open period admitted a trial (e.g. the opened_at it was made under); when "
            "it ends in another period (or state), count neither its success nor its failure, and don't free "
            "a slot of the current period",
        )
        _require_transitions(
            chain,
            run,
            [("closed", "open"), ("open", "half_open"), ("half_open", "open"), ("open", "half_open")],
            during=f"{what}: ",
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


@learner_facing
def check_protected(protected: Any) -> None:
    """``@protected(breaker)`` on ``async def lookup(n, *, scale=1)``: decorating calls nothing; each call
    of the result goes through ``breaker.call`` once, with ``lookup`` and the same arguments, and returns
    its result; the name and docstring are kept; an open breaker's CircuitOpenError reaches the caller."""
    chain = Chain("protected")
    chain.require(
        callable(protected),
        "protected is defined",
        observed=f"protected is {protected!r}",
        hint="run the cell that defines `def protected(breaker):`",
    )
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
    chain.require(
        not breaker.calls,
        "@protected(breaker) calls nothing when it decorates",
        observed=f"breaker.call was called {len(breaker.calls)} time(s) at decoration",
        hint="the decorator returns a new function; the breaker is used when that function is called",
    )
    chain.require(
        callable(guarded),
        "@protected(breaker) gives a function",
        observed=f"it gave {guarded!r}",
        hint="the decorator returns a new async function: `async def guarded(*args, **kwargs): ...`",
    )
    run = run_virtual(lambda: guarded(3, scale=2), deadline=60)
    chain.require_finished(run, "lookup(3, scale=2), decorated")
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
    chain.require(
        getattr(guarded, "__name__", None) == "lookup" and getattr(guarded, "__doc__", None) == "Look n up.",
        "the decorated function keeps lookup's name and docstring",
        observed=f"its __name__ is {getattr(guarded, '__name__', None)!r}, its __doc__ "
        f"{getattr(guarded, '__doc__', None)!r}",
        hint="decorate the wrapper with @functools.wraps(func)",
    )
    closed = SpyBreaker(open=True)
    run = run_virtual(lambda: protected(closed)(lookup)(1), deadline=60)
    chain.require(
        isinstance(run.error, CircuitOpenError),
        "with an open breaker, the decorated call raises CircuitOpenError",
        observed=f"it {'raised ' + describe_error(run.error) if run.error else 'returned ' + repr(run.value)}",
        hint="let the breaker's error through: don't catch it",
    )


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


@learner_facing
def check_fetch_item(fetch_item: Any, *, seed: int = 7, start: float = 2.25) -> None:
    """Against the course's service, through a spy breaker: item 7 gives its JSON body; item 13 (503)
    raises UpstreamError with status 503 inside ``breaker.call``; item 42 (429) raises
    httpx.HTTPStatusError, not an UpstreamError (a 4xx is not the service failing)."""
    chain = Chain("fetch_item")
    chain.require_async_function(fetch_item, "fetch_item")
    for n, status in ((ITEM_OK, 200), (ITEM_DOWN, 503), (ITEM_LIMITED, 429)):
        service, breaker = _items_service(seed), SpyBreaker()

        async def main(service: Service = service, breaker: SpyBreaker = breaker, n: int = n) -> Any:
            await asyncio.sleep(start)
            async with service.client() as client:
                return await fetch_item(client, breaker, n)

        run = run_virtual(main, deadline=start + 60)
        what = f"fetch_item(client, breaker, {n}), the service answering {status}"
        if status == 200:
            chain.require_finished(run, what)
            chain.require(
                run.value == {"item": n},
                f"{what} returns the JSON body",
                observed=f"it returned {run.value!r}",
                hint="return response.json()",
            )
        chain.require(
            len(breaker.calls) == 1 and len(service.log) == 1,
            f"{what} sends one request, through breaker.call",
            observed=f"breaker.call was called {len(breaker.calls)} time(s); the service got "
            f"{len(service.log)} request(s)",
            hint="one request per fetch_item call: don't call breaker.call again after an error (retries belong "
            "around fetch_item, chapter 6's retry)"
            if len(breaker.calls) > 1
            else "make the request inside the function you give breaker.call, once: "
            "`await breaker.call(get)` where `get` does `await client.get(f'/items/{n}')`",
        )
        if status == 200:
            continue
        inside = breaker.raised[0] if breaker.raised else None
        if status == 503:
            chain.require(
                isinstance(inside, UpstreamError) and getattr(inside, "status", None) == 503,
                f"{what} raises UpstreamError(503) inside breaker.call, where the breaker counts it",
                observed=f"the function given to breaker.call "
                f"{'raised ' + describe_error(inside) if inside else 'returned (the breaker saw a success)'}",
                hint="httpx does not raise on a 503: it returns the response. Check response.is_server_error "
                "inside the function you give the breaker, and raise UpstreamError(response.status_code) there",
            )
            chain.require(
                getattr(inside, "path", None) == f"/items/{n}",
                f"{what}: the UpstreamError names the request's path, UpstreamError(503, '/items/{n}')",
                observed=f"its path is {getattr(inside, 'path', None)!r} ({describe_error(inside)})",
                hint="give UpstreamError the path too: UpstreamError(response.status_code, f'/items/{n}'), so that "
                "the error says which request failed",
            )
            chain.require(
                run.error is inside,
                f"{what} lets that UpstreamError reach the caller",
                observed=f"fetch_item {'raised ' + describe_error(run.error) if run.error else 'returned'}",
                hint="don't catch it outside the breaker",
            )
        else:
            chain.require(
                isinstance(inside, httpx.HTTPStatusError) and not isinstance(inside, UpstreamError),
                f"{what} raises httpx.HTTPStatusError, not UpstreamError: a 4xx is not the service failing",
                observed=f"the function given to breaker.call "
                f"{'raised ' + describe_error(inside) if inside else 'returned (no error)'}",
                hint="UpstreamError is for 5xx answers only (response.is_server_error); for a 4xx, "
                "response.raise_for_status()",
            )


@learner_facing
def check_fetch_item_open(fetch_item: Any, *, seed: int = 7) -> None:
    """With an open (spy) breaker: fetch_item raises CircuitOpenError and sends no request at all."""
    chain = Chain("fetch_item")
    chain.require_async_function(fetch_item, "fetch_item")
    service, breaker = _items_service(seed), SpyBreaker(open=True)

    async def main() -> Any:
        async with service.client() as client:
            return await fetch_item(client, breaker, ITEM_OK)

    run = run_virtual(main, deadline=60)
    what = f"fetch_item(client, breaker, {ITEM_OK}), the breaker open"
    chain.require(
        not service.log,
        f"{what} sends no request",
        observed=f"the service got {len(service.log)} request(s)",
        hint="the request must be made inside the function you give breaker.call, so that an open breaker "
        "can refuse to make it; don't send it first and hand the response to the breaker",
    )
    chain.require(
        isinstance(run.error, CircuitOpenError),
        f"{what} raises CircuitOpenError",
        observed=f"fetch_item {'raised ' + describe_error(run.error) if run.error else 'returned ' + repr(run.value)}",
        hint="let the breaker's CircuitOpenError reach the caller",
    )
