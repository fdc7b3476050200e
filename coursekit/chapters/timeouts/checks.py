"""Chapter 5 checks: call_with_fallback, Deadline and shutdown (semantics: solutions/timeouts.py).

Each ``check_*`` runs one scenario on the virtual clock, named in every message with its
arguments (``start`` is when the scenario begins on the loop's clock, so code that
assumes the clock starts at 0 shows up), then walks a :class:`~coursekit.checks.Chain`:
defined -> runs -> terminates -> correct. The operations are :class:`Operation` stand-ins
that record when they were called, cancelled and done cleaning up. A check is a scenario
(a function that runs the learner's code and returns its run) plus named properties, each a
function of what the scenario observed, in the order they are required.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from typing import Any, Protocol, Self

from coursekit.chapters.timeouts.given import Call, Operation, OperationFailed
from coursekit.checks import Chain, describe_error, learner_facing
from coursekit.scenario import (
    Outcome,
    Swept,
    cancellation_sweep,
    cancelled_at,
    ends_cancelled_at_each_wait,
    require_class,
    run_scenario,
    sleep_until,
    sweep_instants,
    timed_call,
)
from coursekit.virtual_time import VirtualRun, run_virtual

FALLBACK = "fallback"


def _between_events(start: float) -> Callable[[VirtualRun[Any]], list[float]]:
    """The sweep's instants from ``start`` (:func:`~coursekit.scenario.sweep_instants`), but for those at
    which the uncancelled run emitted an event: a cancellation there ties with the call's own timer (which
    comes first is the loop's choice), so only the middle of each wait is kept."""

    def instants(run: VirtualRun[Any]) -> list[float]:
        ties = {event.time for event in run.events}
        return [at for at in sweep_instants(run, start=start) if at not in ties]

    return instants


def _ends_cancelled_during(
    chain: Chain, what: str, swept: list[Swept], boundary: float, later: str, *, hint: str, later_hint: str
) -> None:
    """:func:`~coursekit.scenario.ends_cancelled_at_each_wait`, for the instants up to ``boundary``, then for
    those after it (``what`` + ``later``, which says what goes on then), each with its own hint."""
    for part, words, told in (
        ([one for one in swept if one.at <= boundary], what, hint),
        ([one for one in swept if one.at > boundary], what + later, later_hint),
    ):
        if part:
            ends_cancelled_at_each_wait(chain, words, part, hint=told)


# ---------------------------------------------------------------------- the learner's subjects

CallWithFallback = Callable[[Callable[[], Awaitable[Any]], float, Any], Coroutine[Any, Any, Any]]
"""``await call_with_fallback(operation, timeout, fallback)``."""

Shutdown = Callable[[list[asyncio.Task[Any]], float], Coroutine[Any, Any, Any]]
"""``await shutdown(tasks, grace)``: a report {task name: outcome}."""


class DeadlineLike(Protocol):
    """A ``Deadline``: made with ``Deadline.after(seconds)``, read and scoped on the loop's clock."""

    @property
    def when(self) -> float: ...

    @classmethod
    def after(cls, seconds: float, /) -> Self: ...

    def remaining(self) -> float: ...

    def expired(self) -> bool: ...

    def child(self, seconds: float, /) -> DeadlineLike: ...

    def scope(self) -> AbstractAsyncContextManager[Any]: ...


def _at(time: float | None) -> str:
    return "never" if time is None else f"t={time:g}"


def _ended(run: VirtualRun[Any]) -> str:
    """How a run ended, in a message: ``raised ERROR`` or ``returned VALUE``."""
    if run.outcome == "raised":
        return f"raised {describe_error(run.error)}"
    return f"returned {run.value!r}"


# ---------------------------------------------------------------- call_with_fallback


@dataclass(frozen=True)
class Returned:
    """What a call returned, when (loop clock), and the operation's calls as they were then."""

    value: Any
    at: float
    calls: list[Call]


def _fallback_call(operation: Operation, timeout: float, start: float) -> str:
    return f"call_with_fallback({operation!r}, timeout={timeout:g}, fallback={FALLBACK!r}) at t={start:g}"


def _run_fallback(
    call_with_fallback: CallWithFallback, operation: Operation, timeout: float, start: float
) -> VirtualRun[Returned]:
    """Run one call; the value, when it returned, and the operation's calls as they were then
    (run_virtual cancels what is left afterwards, at the same instant, which must not count)."""

    async def main() -> Returned:
        await asyncio.sleep(start)
        value = await call_with_fallback(operation, timeout, FALLBACK)
        returned = asyncio.get_running_loop().time()
        await asyncio.sleep(0)  # one step of the loop, no time: a cancel() just requested is delivered
        return Returned(value, returned, [replace(call) for call in operation.calls])

    return run_virtual(main, deadline=start + 10 * (timeout + operation.duration + operation.cleanup + 1))


@learner_facing
def check_call_with_fallback(
    call_with_fallback: CallWithFallback,
    *,
    duration: float = 5.0,
    timeout: float = 2.0,
    cleanup: float = 0.5,
    start: float = 0.0,
) -> None:
    """The operation takes ``duration`` s and cleans up for ``cleanup`` s if cancelled. In time
    (``duration < timeout``): its result, as soon as it returns. Late: cancelled at the timeout,
    cleaned up, then the fallback, returned right after the cleanup."""
    operation = Operation("lookup", duration, result="fresh", cleanup=cleanup)
    call = _fallback_call(operation, timeout, start)
    chain = Chain("call_with_fallback")
    chain.require_async_function(call_with_fallback, "call_with_fallback")
    run = _run_fallback(call_with_fallback, operation, timeout, start)
    if run.outcome == "raised" and isinstance(run.error, TimeoutError) and duration > timeout:
        chain.fail(
            f"{call} returns the fallback when the operation is late",
            observed="it raised TimeoutError",
            hint="catch the TimeoutError of your own timeout and return `fallback` instead",
        )
    chain.require_finished(run, call)
    returned = run.unwrap()
    op = calls_the_operation_once(chain, returned, call)
    if duration < timeout:
        returns_the_result_as_soon_as_the_operation_does(chain, returned, op, call, start + duration)
    else:
        returns_the_fallback_when_late(chain, returned, call)
        cancels_the_operation_at_the_timeout(chain, op, call, start + timeout)
        returns_right_after_the_cleanup(chain, returned, op, call, start + timeout + cleanup)
    leaves_no_task_running(chain, run, call)
    if duration < timeout:
        a_call_in_time_leaves_no_timer_behind(chain, call_with_fallback, duration, timeout, start)


def calls_the_operation_once(chain: Chain, returned: Returned, call: str) -> Call:
    chain.require(
        len(returned.calls) == 1,
        f"{call} calls the operation once",
        observed=f"operation() was called {len(returned.calls)} times",
        hint="call operation() exactly once, and await what it returns",
    )
    return returned.calls[0]


def returns_the_result_as_soon_as_the_operation_does(
    chain: Chain, returned: Returned, op: Call, call: str, ends: float
) -> None:
    chain.require(
        returned.value == "fresh",
        f"{call} returns the operation's result when it is in time",
        observed=f"the operation returned 'fresh' at {_at(op.ended)}, but the call returned {returned.value!r}",
        hint="the fallback is only for a timeout: return what `await operation()` gave",
    )
    chain.require(
        returned.at == ends,
        f"{call} returns as soon as the operation does (t={ends:g})",
        observed=f"it returned at t={returned.at:g}",
        hint="don't wait out the whole timeout: `async with asyncio.timeout(...)` ends with the operation",
    )


def returns_the_fallback_when_late(chain: Chain, returned: Returned, call: str) -> None:
    chain.require(
        returned.value == FALLBACK,
        f"{call} returns the fallback when the operation is late",
        observed=f"it returned {returned.value!r} at t={returned.at:g}",
        hint="nothing stopped the operation at the timeout: wrap the await in `async with asyncio.timeout(timeout):`"
        if returned.value == "fresh"
        else "return the `fallback` argument itself when the time is up",
    )


def cancels_the_operation_at_the_timeout(chain: Chain, op: Call, call: str, deadline: float) -> None:
    chain.require(
        op.cancelled_at == deadline,
        f"{call} cancels the operation at the timeout (t={deadline:g})",
        observed=f"the operation was cancelled at {_at(op.cancelled_at)}; it ended at {_at(op.ended)}",
        hint="a late operation must be stopped, not left running: cancel it when the time is up "
        "(asyncio.timeout does; asyncio.wait(..., timeout=) and shield() do not)"
        if op.cancelled_at is None
        else "measure the timeout from when call_with_fallback starts, on the loop's clock",
    )


def returns_right_after_the_cleanup(chain: Chain, returned: Returned, op: Call, call: str, cleaned: float) -> None:
    chain.require(
        op.cleaned_up is not None and op.cleaned_up <= returned.at,
        f"{call} returns only after the cancelled operation has cleaned up (t={cleaned:g})",
        observed=f"it returned at t={returned.at:g}, and the operation's cleanup had not ended",
        hint="after cancelling, await the operation's task so its `finally` runs to the end "
        "(asyncio.timeout waits for it by itself)",
    )
    chain.require(
        returned.at == cleaned,
        f"{call} returns right after the cleanup (t={cleaned:g})",
        observed=f"it returned at t={returned.at:g}",
        hint="return the fallback as soon as the cancelled operation has ended; don't sleep",
    )


def leaves_no_task_running(chain: Chain, run: VirtualRun[Any], call: str) -> None:
    chain.require(
        not run.leftover,
        f"{call} leaves no task running when it returns",
        observed=lambda: "; ".join(task.describe() for task in run.leftover),
        hint="a task you started (a timer, a helper) is still running: cancel it, and wait for it, before "
        "returning; `async with asyncio.timeout(timeout):` needs no task of its own",
    )


def a_call_in_time_leaves_no_timer_behind(
    chain: Chain, call_with_fallback: CallWithFallback, duration: float, timeout: float, start: float
) -> None:
    """The scenario of a caller that goes on after a call in time: a second call, whose operation is
    still running when the first call's timeout would have come, then ``timeout`` s of other work.
    Both calls return their results, and nothing cancels the caller afterwards."""
    first = Operation("lookup", duration, result="fresh")
    second = Operation("second lookup", timeout - duration / 2, result="fresh again")
    scenario = (
        f"{_fallback_call(first, timeout, start)}, then call_with_fallback({second!r}, timeout={timeout:g}, "
        f"fallback={FALLBACK!r}) as soon as it returns"
    )

    async def main() -> list[Outcome]:
        await asyncio.sleep(start)
        outcomes = [
            await timed_call(call_with_fallback(op, timeout, FALLBACK), catch=BaseException) for op in (first, second)
        ]
        outcomes.append(await timed_call(asyncio.sleep(timeout), catch=BaseException))  # the caller's other work
        return outcomes

    outcomes = run_scenario(chain, main, deadline=start + 10 * (timeout + duration + 1), what=scenario).unwrap()
    ends = start + duration + second.duration
    stale = f"the first call's timer, due at t={start + timeout:g}"
    chain.require(
        (outcomes[1].value, outcomes[1].error, outcomes[1].ended) == ("fresh again", None, ends),
        f"{scenario}: the second call returns its result at t={ends:g}",
        observed=f"the second call {outcomes[1].describe()}",
        hint=f"measure the timeout from when each call starts, on the loop's clock: the second call started "
        f"at t={start + duration:g}, but its time was up when the first call's was, at t={start + timeout:g} "
        "(asyncio.timeout(timeout) counts from now; timeout_at(timeout) or a deadline kept from an earlier "
        "call does not)"
        if outcomes[1].value == FALLBACK
        else f"{stale}, went off during the second call: when the operation is in time, cancel your timer "
        "(the handle of loop.call_later, in a `finally`), or use `async with asyncio.timeout(timeout):`, "
        "which does",
    )
    chain.require(
        outcomes[2].error is None,
        f"{scenario}: once both calls have returned, nothing cancels their caller",
        observed=lambda: f"the caller's next `await asyncio.sleep({timeout:g})` {outcomes[2].describe()}",
        hint="a timer of yours is still armed after call_with_fallback has returned: cancel it when the "
        "operation ends in time (in a `finally`), or use `async with asyncio.timeout(timeout):`, which does",
    )


@learner_facing
def check_call_with_fallback_errors(
    call_with_fallback: CallWithFallback, *, fails_after: float = 1.0, timeout: float = 2.0, start: float = 0.0
) -> None:
    """An operation that raises before the timeout, errors drawn from across ``Exception``: an error of
    its own (``OperationFailed``), its own ``TimeoutError``, an ``OSError`` (``ConnectionResetError``) and
    a ``ValueError``. Each reaches the caller unchanged (the same object); none gives the fallback."""
    chain = Chain("call_with_fallback")
    chain.require_async_function(call_with_fallback, "call_with_fallback")
    errors: tuple[Exception, ...] = (
        OperationFailed("the lookup failed"),
        TimeoutError("the lookup's own connect timeout"),
        ConnectionResetError("the server reset the connection"),
        ValueError("the lookup got a malformed answer"),
    )
    for error in errors:
        operation = Operation("lookup", fails_after, error=error)
        call = _fallback_call(operation, timeout, start)
        run = _run_fallback(call_with_fallback, operation, timeout, start)
        what = f"{call}, the operation raising {type(error).__name__} at t={start + fails_after:g}"
        the_error_propagates(chain, run, error, what)


def the_error_propagates(chain: Chain, run: VirtualRun[Returned], error: Exception, what: str) -> None:
    if run.outcome == "returned" and run.value is not None and run.value.value == FALLBACK:
        chain.fail(
            f"{what}: the error propagates",
            observed=f"it returned the fallback at t={run.value.at:g}",
            hint="only your own deadline gives the fallback; the operation's TimeoutError came before it. "
            "With `async with asyncio.timeout(t) as scope:`, `scope.expired()` tells the two apart"
            if isinstance(error, TimeoutError)
            else "an error is not a timeout, whatever its type: let every error of the operation propagate "
            "(catch only TimeoutError, and only when your own scope expired)",
        )
    chain.require(
        run.outcome == "raised" and run.error is error,
        f"{what}: the error propagates",
        observed=_ended(run),
        hint="let the operation's exception propagate as it is: don't catch it, wrap it or replace it",
    )


@learner_facing
def check_call_with_fallback_cancelled(
    call_with_fallback: CallWithFallback,
    *,
    cancel_at: float = 1.0,
    timeout: float = 5.0,
    cleanup: float = 0.5,
    start: float = 0.0,
    sweep: bool = False,
) -> None:
    """The caller's task is cancelled at ``start + cancel_at``: ``CancelledError`` propagates (no
    fallback), and the operation is cancelled too (at that instant, or at the timeout if that came
    first), and no task is left. With ``sweep``, instead, the caller is cancelled at each of the call's
    waits in turn, on a late operation: in the middle of the operation's work, and of its cleanup
    after the timeout (an instant at which the call's own time ends is left out: a tie). A caller
    cancelled during that cleanup may return before the cleanup has ended (wait_for does, and the
    statement leaves it open): no task left is then not required."""
    chain = Chain("call_with_fallback")
    chain.require_async_function(call_with_fallback, "call_with_fallback")
    calls: dict[float, list[Call]] = {}  # the operation's calls as they were when the caller ended

    def scenario(at: float) -> VirtualRun[Outcome]:
        operation = Operation("lookup", 10 * timeout, result="fresh", cleanup=cleanup)

        async def main() -> Outcome:
            await asyncio.sleep(start)
            outcome = await cancelled_at(lambda: call_with_fallback(operation, timeout, FALLBACK), at)
            await asyncio.sleep(0)  # one step of the loop, no time: a cancel() just requested is delivered
            calls[at] = [replace(call) for call in operation.calls]
            return outcome

        return run_virtual(main, deadline=start + 100 * timeout)

    call = _fallback_call(Operation("lookup", 10 * timeout, result="fresh", cleanup=cleanup), timeout, start)
    instants = _between_events(start) if sweep else lambda _: [start + cancel_at]
    swept = cancellation_sweep(chain, f"{call}, its caller", scenario, instants=instants)
    _ends_cancelled_during(
        chain,
        f"{call}, its caller",
        swept,
        start + timeout,
        f", while the operation cleans up after the timeout (t={start + timeout:g})",
        hint="a cancellation is not a timeout: never turn CancelledError into the fallback. "
        "Catch TimeoutError only (asyncio.timeout turns its own cancellation into TimeoutError for you)",
        later_hint="the caller was cancelled while you awaited the cancelled operation's cleanup: that "
        "CancelledError is the caller's, so let it propagate, with no fallback. Don't catch BaseException, and "
        "don't `except CancelledError: pass` around awaiting the cleanup (`await asyncio.wait({task})` waits "
        "without raising the task's cancellation; or ask asyncio.current_task().cancelling())",
    )
    for one in swept:
        the_operation_is_cancelled_with_its_caller(chain, call, one, calls[one.at], timeout, start)


def the_operation_is_cancelled_with_its_caller(
    chain: Chain, call: str, swept: Swept, calls: list[Call], timeout: float, start: float
) -> None:
    at, run = swept.at, swept.run
    what = f"{call}, its caller cancelled at t={at:g}"
    during_cleanup = at > start + timeout
    if during_cleanup:
        what += f", while the operation cleans up after the timeout (t={start + timeout:g})"
    op = calls[0] if calls else None
    cancelled = min(at, start + timeout)
    chain.require(
        op is not None and op.cancelled_at == cancelled,
        f"{what}: the operation was cancelled at the timeout (t={cancelled:g})"
        if during_cleanup
        else f"{what}: the operation is cancelled with it",
        observed="the operation was never called"
        if op is None
        else f"the operation was cancelled at {_at(op.cancelled_at)}",
        hint="await the operation in the caller's own task (or cancel its task when you are cancelled): "
        "a shielded or forgotten task keeps running after the caller is gone",
    )
    if not during_cleanup:  # a caller cancelled during the cleanup may leave the rest of it to the operation
        chain.require_no_leftover_tasks(run, what)  # (wait_for does): the statement leaves that open


# ---------------------------------------------------------------------- Deadline


@learner_facing
def check_deadline_clock(deadline_class: type[DeadlineLike], *, seconds: float = 3.0, start: float = 100.25) -> None:
    """``Deadline.after(seconds)`` at ``start``: ``when``, ``remaining()`` and ``expired()`` read the
    loop's clock; remaining is exact and never negative; expired from ``when`` on, ``when`` included."""
    chain = Chain("Deadline")
    require_class(chain, deadline_class, "Deadline")
    scenario = f"Deadline.after({seconds:g}) made at t={start:g}"
    probes = (0.0, seconds / 2, seconds, seconds + 2)

    async def main() -> list[tuple[float, Any, Any, Any]]:
        await asyncio.sleep(start)
        deadline = deadline_class.after(seconds)
        seen = []
        for offset in probes:
            await sleep_until(start + offset)
            seen.append((start + offset, deadline.when, deadline.remaining(), deadline.expired()))
        return seen

    seen = run_scenario(chain, main, deadline=start + 10 * seconds + 10, what=scenario).unwrap()
    when = seen[0][1]
    chain.require(
        when == start + seconds,
        f"{scenario}: when is t={start + seconds:g}",
        observed=f"when is {when!r}",
        hint="`when` is an absolute time: the loop's clock now (asyncio.get_running_loop().time()) plus seconds",
    )
    for now, _, remaining, expired in seen:
        remaining_and_expired_read_the_clock(chain, scenario, now, start + seconds, remaining, expired)


def remaining_and_expired_read_the_clock(
    chain: Chain, scenario: str, now: float, when: float, remaining: Any, expired: Any
) -> None:
    expected = max(0.0, when - now)
    chain.require(
        remaining == expected,
        f"{scenario}: at t={now:g}, remaining() is {expected:g}",
        observed=f"remaining() returned {remaining!r}",
        hint="never below 0: use max(0.0, ...)"
        if isinstance(remaining, int | float) and remaining < 0
        else "remaining() is `when` minus the loop's clock now",
    )
    chain.require(
        expired is (now >= when),
        f"{scenario}: at t={now:g}, expired() is {now >= when}",
        observed=f"expired() returned {expired!r}",
        hint="expired() is True from `when` on, `when` itself included (>=), and a bool",
    )


@learner_facing
def check_deadline_child(
    deadline_class: type[DeadlineLike],
    *,
    parent: float = 5.0,
    shorter: float = 2.0,
    longer: float = 10.0,
    start: float = 7.5,
) -> None:
    """At ``start + 1``, a child of ``Deadline.after(parent)`` made at ``start`` ends ``shorter`` s
    from now, or at the parent's ``when`` if ``longer`` would go past it; a child is a Deadline."""
    chain = Chain("Deadline")
    require_class(chain, deadline_class, "Deadline")
    scenario = f"Deadline.after({parent:g}) made at t={start:g}"

    async def main() -> list[tuple[float, Any]]:
        await asyncio.sleep(start)
        deadline = deadline_class.after(parent)
        await asyncio.sleep(1.0)
        return [(seconds, deadline.child(seconds)) for seconds in (shorter, longer)]

    children = run_scenario(chain, main, deadline=start + 10, what=scenario).unwrap()
    for seconds, child in children:
        what = f"{scenario}: .child({seconds:g}) at t={start + 1:g}"
        a_child_ends_with_its_parent_at_the_latest(
            chain, deadline_class, what, child, min(start + parent, start + 1 + seconds)
        )


def a_child_ends_with_its_parent_at_the_latest(
    chain: Chain, deadline_class: type[DeadlineLike], what: str, child: Any, expected: float
) -> None:
    chain.require(
        isinstance(child, deadline_class),
        f"{what} is a Deadline",
        observed=f"it returned {child!r}",
        hint="return a new Deadline(...) for the child",
    )
    chain.require(
        child.when == expected,
        f"{what} ends at t={expected:g}",
        observed=f"its when is {child.when!r}",
        hint="a child never outlives its parent: the earlier of the parent's `when` and now + seconds"
        if child.when > expected
        else "now + seconds, on the loop's clock, unless the parent ends sooner",
    )


@learner_facing
def check_deadline_scope(
    deadline_class: type[DeadlineLike],
    *,
    seconds: float = 3.0,
    work: float = 5.0,
    cleanup: float = 0.5,
    start: float = 2.0,
    sweep: bool = False,
) -> None:
    """``async with Deadline.after(seconds).scope(): await operation()``: the operation is cancelled at
    the deadline, cleans up, and the block raises ``TimeoutError``; in time, the block ends with it,
    and its task goes on past the deadline undisturbed. Through nested calls, an inner ``child(...)``
    scope never runs past the outer deadline. With ``sweep``, the block's task is also cancelled from
    outside at each of its waits in turn (in the middle of the work, and of the cleanup after the
    deadline): ``CancelledError`` propagates, never ``TimeoutError``."""
    chain = Chain("Deadline")
    require_class(chain, deadline_class, "Deadline")
    for duration in (work, seconds / 2):
        operation = Operation("step", duration, cleanup=cleanup)
        scenario = f"`async with Deadline.after({seconds:g}).scope(): await {operation!r}()` at t={start:g}"

        async def main(operation: Operation = operation) -> tuple[str, float, Outcome]:
            await asyncio.sleep(start)
            try:
                async with deadline_class.after(seconds).scope():
                    await operation()
                how = "ended"
            except TimeoutError:
                how = "TimeoutError"
            ended = asyncio.get_running_loop().time()
            return how, ended, await timed_call(asyncio.sleep(seconds), catch=BaseException)  # its next work

        deadline = start + 10 * (work + seconds + cleanup)
        how, when, after = run_scenario(chain, main, deadline=deadline, what=scenario).unwrap()
        late = duration > seconds
        the_scope_cancels_at_the_deadline(
            chain, scenario, how, when, late=late, expected=(start + seconds + cleanup) if late else (start + duration)
        )
        if not late:
            a_scope_ended_early_cancels_nothing_later(chain, scenario, seconds, after)
    a_child_scope_stops_at_the_outer_deadline(chain, deadline_class, seconds, start)
    if sweep:
        a_scope_lets_a_cancellation_from_outside_through(chain, deadline_class, seconds, work, cleanup, start)


def a_scope_ended_early_cancels_nothing_later(chain: Chain, scenario: str, seconds: float, after: Outcome) -> None:
    chain.require(
        after.error is None,
        f"{scenario}: after the block has ended, its task goes on past the deadline undisturbed",
        observed=f"the task's next `await asyncio.sleep({seconds:g})` {after.describe()}",
        hint="the scope's timer is still armed after its block has ended: cancel it when the block ends "
        "(the handle of loop.call_at, in __aexit__), or return asyncio.timeout_at(self.when), which does",
    )


def a_scope_lets_a_cancellation_from_outside_through(
    chain: Chain, deadline_class: type[DeadlineLike], seconds: float, work: float, cleanup: float, start: float
) -> None:
    """The sweep's scenarios: the block's task cancelled from outside at each of its waits in turn."""
    duration = work if work > seconds else 10 * seconds

    async def block(operation: Operation) -> None:
        async with deadline_class.after(seconds).scope():
            await operation()

    def scenario(at: float) -> VirtualRun[Outcome]:
        async def main() -> Outcome:
            await asyncio.sleep(start)
            return await cancelled_at(lambda: block(Operation("step", duration, cleanup=cleanup)), at)

        return run_virtual(main, deadline=start + 10 * (duration + cleanup + 1))

    what = (
        f"`async with Deadline.after({seconds:g}).scope(): await {Operation('step', duration)!r}()` at t={start:g}, "
        "its task (from outside)"
    )
    hint = (
        "a cancellation from outside is not the deadline: let CancelledError through, and raise "
        "TimeoutError only for the scope's own cancellation (asyncio.timeout_at tells them apart with "
        "task.uncancel())"
    )
    swept = cancellation_sweep(chain, what, scenario, instants=_between_events(start))
    _ends_cancelled_during(
        chain,
        what,
        swept,
        start + seconds,
        f", while the step cleans up after the deadline (t={start + seconds:g})",
        hint=hint,
        later_hint=hint,
    )


def the_scope_cancels_at_the_deadline(
    chain: Chain, scenario: str, how: str, when: float, *, late: bool, expected: float
) -> None:
    chain.require(
        (how, when) == ("TimeoutError" if late else "ended", expected),
        f"{scenario}: " + (f"TimeoutError at t={expected:g}, after the cleanup" if late else f"ends at t={expected:g}"),
        observed=f"the block {'raised TimeoutError' if how == 'TimeoutError' else 'ended'} at t={when:g}",
        hint="scope() is asyncio.timeout_at(self.when): it cancels the block at the deadline, waits for "
        "the cleanup, then raises TimeoutError",
    )


def a_child_scope_stops_at_the_outer_deadline(
    chain: Chain, deadline_class: type[DeadlineLike], seconds: float, start: float
) -> None:
    """The scenario of nested scopes, and its one property."""
    outer, inner = Operation("outer", 100.0), Operation("inner", 100.0)
    scenario = (
        f"a call under Deadline.after({seconds:g}).scope() at t={start:g} whose inner layer runs "
        f"`async with deadline.child({10 * seconds:g}).scope()`"
    )

    async def nested() -> float:
        await asyncio.sleep(start)
        deadline = deadline_class.after(seconds)
        try:
            async with deadline.scope():
                async with deadline.child(10 * seconds).scope():
                    await inner()
                await outer()
        except TimeoutError:
            pass
        return asyncio.get_running_loop().time()

    ended = run_scenario(chain, nested, deadline=start + 100 * seconds, what=scenario).unwrap()
    chain.require(
        ended == start + seconds,
        f"{scenario}: everything stops at the outer deadline, t={start + seconds:g}",
        observed=f"it stopped at t={ended:g}",
        hint="the child's scope must end at the child's `when`, which is capped by its parent's",
    )


# ---------------------------------------------------------------------- shutdown


def _shutdown_call(operations: list[Operation], grace: float, start: float) -> str:
    listed = ", ".join(
        f"{op.name}: {op.duration:g} s" + (", fails" if op.error else "") + (", ignores cancel" if op.stubborn else "")
        for op in operations
    )
    return f"shutdown([{listed}], grace={grace:g}) at t={start:g}"


def _run_shutdown(
    shutdown: Shutdown, operations: list[Operation], grace: float, start: float
) -> VirtualRun[tuple[Any, float]]:
    """``shutdown`` of a task per operation (named after it), started at ``start``: its report, and when it returned."""

    async def main() -> tuple[Any, float]:
        await asyncio.sleep(start)
        tasks = [asyncio.create_task(operation(), name=operation.name) for operation in operations]
        report = await shutdown(tasks, grace)
        return report, asyncio.get_running_loop().time()

    longest = max((op.duration + op.cleanup for op in operations), default=0.0)
    return run_virtual(main, deadline=start + 10 * (grace + longest + 1))


def _expected_outcome(operation: Operation, grace: float) -> str:
    if operation.duration > grace:
        return "cancelled"
    return "failed" if operation.error is not None else "finished"


@learner_facing
def check_shutdown(
    shutdown: Shutdown,
    *,
    grace: float = 3.0,
    durations: tuple[float, float, float] = (1.0, 2.0, 10.0),
    cleanup: float = 0.5,
    start: float = 0.0,
    sweep: bool = False,
) -> None:
    """Tasks ``quick`` (returns), ``broken`` (fails) and ``slow`` (cleans up for ``cleanup`` s when
    cancelled) of the given durations: those that end within ``grace`` are left alone, the rest
    cancelled at ``start + grace``; shutdown returns when the last has ended, with each one's outcome,
    and no failure is left unretrieved. With ``sweep``, the task running shutdown is then cancelled at
    each of its waits in turn: CancelledError propagates (Python's rule for a cancelled task; what
    becomes of the tasks then, the statement leaves open)."""
    quick, broken, slow = durations

    def operations_of_the_scenario() -> list[Operation]:
        return [
            Operation("quick", quick, result="ok"),
            Operation("broken", broken, error=OperationFailed("broken failed")),
            Operation("slow", slow, cleanup=cleanup),
        ]

    operations = operations_of_the_scenario()
    call = _shutdown_call(operations, grace, start)
    chain = Chain("shutdown")
    chain.require_async_function(shutdown, "shutdown")
    run = _run_shutdown(shutdown, operations, grace, start)
    reports_failures_and_cancellations_instead_of_raising(chain, run, call)
    chain.require_finished(run, call)
    report, returned = run.unwrap()
    for op in operations:
        cancels_only_what_outlives_the_grace_period(chain, op, call, grace, start)
    reports_how_each_task_ended(chain, report, {op.name: _expected_outcome(op, grace) for op in operations}, call)
    end = start + max(op.duration if op.duration <= grace else grace + op.cleanup for op in operations)
    returns_when_the_last_task_has_ended(chain, returned, end, call)
    chain.require(
        not run.unhandled,
        f"{call} leaves no failure unretrieved",
        observed=lambda: "; ".join(run.unhandled),
        hint="asyncio logs 'exception was never retrieved' for a task or future whose failure nobody reads: "
        "call task.exception() on each task, and make no futures (shield(), ensure_future()) you then drop",
    )
    if sweep:
        shutdown_lets_its_own_cancellation_through(chain, shutdown, operations_of_the_scenario, grace, start)


def reports_how_each_task_ended(chain: Chain, report: Any, expected: dict[str, str], call: str) -> None:
    failed_as_cancelled = isinstance(report, dict) and any(
        outcome == "failed" and report.get(name) == "cancelled" for name, outcome in expected.items()
    )
    chain.require(
        isinstance(report, dict) and report == expected,
        f"{call} reports {expected}",
        observed=f"it returned {report!r}",
        hint="a task that raised an exception is 'failed', not 'cancelled': only task.cancelled() means "
        "cancelled; then task.exception() is not None -> 'failed'; else 'finished'"
        if failed_as_cancelled
        else "task.cancelled() -> 'cancelled'; else task.exception() is not None -> 'failed'; else "
        "'finished'; keys are task.get_name()",
    )


def returns_when_the_last_task_has_ended(chain: Chain, returned: float, end: float, call: str) -> None:
    chain.require(
        returned == end,
        f"{call} returns when the last task has ended (t={end:g})",
        observed=f"it returned at t={returned:g}",
        hint="await the cancelled tasks so their cleanup finishes before you return"
        if returned < end
        else "don't wait out the whole grace period when every task has ended: asyncio.wait returns early",
    )


def shutdown_lets_its_own_cancellation_through(
    chain: Chain,
    shutdown: Shutdown,
    operations_of_the_scenario: Callable[[], list[Operation]],
    grace: float,
    start: float,
) -> None:
    """The sweep's scenarios: the task running shutdown cancelled in the middle of each of its waits."""

    def scenario(at: float) -> VirtualRun[Outcome]:
        operations = operations_of_the_scenario()

        async def main() -> Outcome:
            await asyncio.sleep(start)
            tasks = [asyncio.create_task(operation(), name=operation.name) for operation in operations]
            return await cancelled_at(lambda: shutdown(tasks, grace), at)

        longest = max(op.duration + op.cleanup for op in operations)
        return run_virtual(main, deadline=start + 10 * (grace + longest + 1))

    what = f"{_shutdown_call(operations_of_the_scenario(), grace, start)}, itself"
    swept = cancellation_sweep(chain, what, scenario, instants=_between_events(start))
    ends_cancelled_at_each_wait(
        chain,
        what,
        swept,
        hint="shutdown's own caller cancelled it: let that CancelledError propagate. "
        "`try: await task` / `except CancelledError: pass` swallows your own cancellation along with "
        "the task's: wait with asyncio.wait(...), which never raises the tasks' errors or cancellations",
    )


def reports_failures_and_cancellations_instead_of_raising(chain: Chain, run: VirtualRun[Any], call: str) -> None:
    if isinstance(run.error, OperationFailed):
        chain.fail(
            f"{call} reports failures instead of raising them",
            observed=f"it raised {describe_error(run.error)}",
            hint="gather(...) re-raises a task's error: look at each task instead (task.exception()), "
            "or use asyncio.wait, which never raises the tasks' errors",
        )
    if isinstance(run.error, asyncio.CancelledError):
        chain.fail(
            f"{call} reports a cancelled task as cancelled",
            observed="it raised CancelledError",
            hint="task.exception() and task.result() raise CancelledError on a cancelled task: "
            "ask task.cancelled() first",
        )


def cancels_only_what_outlives_the_grace_period(
    chain: Chain, op: Operation, call: str, grace: float, start: float
) -> None:
    if not op.calls:
        chain.fail(
            f"{call}: {op.name} runs until it ends or the grace period is over",
            observed=f"{op.name} never ran: it was cancelled before it started",
            hint="wait up to `grace` seconds before cancelling anything",
        )
    cancelled_at = op.calls[0].cancelled_at
    if op.duration <= grace:
        chain.require(
            cancelled_at is None,
            f"{call}: {op.name} ({op.duration:g} s) is not cancelled: it ends within the grace period",
            observed=f"{op.name} was cancelled at {_at(cancelled_at)}",
            hint="wait up to `grace` seconds first (asyncio.wait(tasks, timeout=grace)), then cancel "
            "only the tasks still running",
        )
    else:
        chain.require(
            cancelled_at == start + grace,
            f"{call}: {op.name} is cancelled when the grace period ends (t={start + grace:g})",
            observed=f"{op.name} was cancelled at {_at(cancelled_at)}",
            hint="one grace period for all the tasks, counted from when shutdown starts: wait for them all "
            "at once (asyncio.wait(tasks, timeout=grace)), not up to `grace` for each in turn"
            if cancelled_at is not None and cancelled_at > start + grace
            else "after the grace period, call .cancel() on every task that is not done",
        )


@learner_facing
def check_shutdown_stubborn(shutdown: Shutdown, *, grace: float = 1.0, work: float = 4.0) -> None:
    """A task that swallows its cancellation and works on for ``work`` s: shutdown waits for it to end,
    and reports ``finished``, since it returned."""
    operation = Operation("stubborn", work, result="late", stubborn=True)
    call = _shutdown_call([operation], grace, 0.0)
    chain = Chain("shutdown")
    chain.require_async_function(shutdown, "shutdown")
    run = _run_shutdown(shutdown, [operation], grace, 0.0)
    chain.require_finished(run, call)
    report, returned = run.unwrap()
    chain.require(
        (report, returned) == ({"stubborn": "finished"}, work),
        f"{call} waits for the task to end (t={work:g}) and reports it finished",
        observed=f"it returned {report!r} at t={returned:g}",
        hint="after cancelling, wait until each task is really done (asyncio.wait(still_running) without a "
        "timeout), then look at how it ended",
    )


@learner_facing
def check_shutdown_nothing(shutdown: Shutdown, *, grace: float = 5.0) -> None:
    """No tasks: an empty report, at once."""
    chain = Chain("shutdown")
    chain.require_async_function(shutdown, "shutdown")
    call = f"shutdown([], grace={grace:g})"

    async def main() -> tuple[Any, float]:
        return await shutdown([], grace), asyncio.get_running_loop().time()

    run = run_virtual(main, deadline=10 * grace)
    if isinstance(run.error, ValueError):
        chain.fail(
            f"{call} handles an empty list of tasks",
            observed=f"it raised {describe_error(run.error)}",
            hint="asyncio.wait() refuses an empty set: return {} at once when there are no tasks",
        )
    chain.require_finished(run, call)
    report, returned = run.unwrap()
    chain.require(
        (report, returned) == ({}, 0.0),
        f"{call} returns {{}} at once",
        observed=f"it returned {report!r} at t={returned:g}",
        hint="with no tasks there is nothing to wait for (asyncio.wait raises ValueError on an empty set)",
    )
