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
from coursekit.scenario import require_class, run_scenario, sleep_until
from coursekit.virtual_time import VirtualRun, run_virtual

FALLBACK = "fallback"

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


@learner_facing
def check_call_with_fallback_errors(
    call_with_fallback: CallWithFallback, *, fails_after: float = 1.0, timeout: float = 2.0, start: float = 0.0
) -> None:
    """An operation that raises before the timeout: ``OperationFailed``, then its own ``TimeoutError``.
    Both reach the caller unchanged (the same object); neither gives the fallback."""
    chain = Chain("call_with_fallback")
    chain.require_async_function(call_with_fallback, "call_with_fallback")
    for error in (OperationFailed("the lookup failed"), TimeoutError("the lookup's own connect timeout")):
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
            else "an error is not a timeout: let it propagate (catch only TimeoutError)",
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
) -> None:
    """The caller's task is cancelled at ``start + cancel_at``, before the timeout: ``CancelledError``
    propagates (no fallback), and the operation is cancelled too, and cleans up."""
    operation = Operation("lookup", 10 * timeout, result="fresh", cleanup=cleanup)
    what = f"{_fallback_call(operation, timeout, start)}, its caller cancelled at t={start + cancel_at:g}"
    chain = Chain("call_with_fallback")
    chain.require_async_function(call_with_fallback, "call_with_fallback")
    run = _run_cancelled_caller(call_with_fallback, operation, timeout, start, cancel_at)
    chain.require_finished(run, what)
    how, value, calls = run.unwrap()
    chain.require(
        how == "cancelled",
        f"{what}: CancelledError propagates",
        observed=f"the caller's task {how} {value!r}" if how != "raised" else f"it raised {describe_error(value)}",
        hint="a cancellation is not a timeout: never turn CancelledError into the fallback. "
        "Catch TimeoutError only (asyncio.timeout turns its own cancellation into TimeoutError for you)",
    )
    op = calls[0] if calls else None
    chain.require(
        op is not None and op.cancelled_at == start + cancel_at,
        f"{what}: the operation is cancelled with it",
        observed="the operation was never called"
        if op is None
        else f"the operation was cancelled at {_at(op.cancelled_at)}",
        hint="await the operation in the caller's own task (or cancel its task when you are cancelled): "
        "a shielded or forgotten task keeps running after the caller is gone",
    )
    chain.require_no_leftover_tasks(run, what)


def _run_cancelled_caller(
    call_with_fallback: CallWithFallback, operation: Operation, timeout: float, start: float, cancel_at: float
) -> VirtualRun[tuple[str, Any, list[Call]]]:
    """The call in a caller's task cancelled ``cancel_at`` s in: how the task ended, its value or error,
    and the operation's calls as they were then."""

    async def main() -> tuple[str, Any, list[Call]]:
        await asyncio.sleep(start)
        caller = asyncio.create_task(call_with_fallback(operation, timeout, FALLBACK), name="caller")
        await asyncio.sleep(cancel_at)
        caller.cancel()
        await asyncio.wait({caller})
        await asyncio.sleep(0)  # one step of the loop, no time: a cancel() just requested is delivered
        calls = [replace(call) for call in operation.calls]  # as they were when the caller ended
        if caller.cancelled():
            return "cancelled", None, calls
        error = caller.exception()
        return ("raised", error, calls) if error is not None else ("returned", caller.result(), calls)

    return run_virtual(main, deadline=start + 100 * timeout)


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
) -> None:
    """``async with Deadline.after(seconds).scope(): await operation()``: the operation is cancelled at
    the deadline, cleans up, and the block raises ``TimeoutError``; in time, the block ends with it.
    Through nested calls, an inner ``child(...)`` scope never runs past the outer deadline."""
    chain = Chain("Deadline")
    require_class(chain, deadline_class, "Deadline")
    for duration in (work, seconds / 2):
        operation = Operation("step", duration, cleanup=cleanup)
        scenario = f"`async with Deadline.after({seconds:g}).scope(): await {operation!r}()` at t={start:g}"

        async def main(operation: Operation = operation) -> tuple[str, float]:
            await asyncio.sleep(start)
            try:
                async with deadline_class.after(seconds).scope():
                    await operation()
            except TimeoutError:
                return "TimeoutError", asyncio.get_running_loop().time()
            return "ended", asyncio.get_running_loop().time()

        how, when = run_scenario(chain, main, deadline=start + 10 * (work + seconds + cleanup), what=scenario).unwrap()
        the_scope_cancels_at_the_deadline(
            chain,
            scenario,
            how,
            when,
            late=duration > seconds,
            expected=(start + seconds + cleanup) if duration > seconds else (start + duration),
        )
    a_child_scope_stops_at_the_outer_deadline(chain, deadline_class, seconds, start)


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
) -> None:
    """Tasks ``quick`` (returns), ``broken`` (fails) and ``slow`` (cleans up for ``cleanup`` s when
    cancelled) of the given durations: those that end within ``grace`` are left alone, the rest
    cancelled at ``start + grace``; shutdown returns when the last has ended, with each one's outcome,
    and no failure is left unretrieved."""
    quick, broken, slow = durations
    operations = [
        Operation("quick", quick, result="ok"),
        Operation("broken", broken, error=OperationFailed("broken failed")),
        Operation("slow", slow, cleanup=cleanup),
    ]
    call = _shutdown_call(operations, grace, start)
    chain = Chain("shutdown")
    chain.require_async_function(shutdown, "shutdown")
    run = _run_shutdown(shutdown, operations, grace, start)
    reports_failures_and_cancellations_instead_of_raising(chain, run, call)
    chain.require_finished(run, call)
    report, returned = run.unwrap()
    for op in operations:
        cancels_only_what_outlives_the_grace_period(chain, op, call, grace, start)
    expected = {op.name: _expected_outcome(op, grace) for op in operations}
    chain.require(
        isinstance(report, dict) and report == expected,
        f"{call} reports {expected}",
        observed=f"it returned {report!r}",
        hint="task.cancelled() -> 'cancelled'; else task.exception() is not None -> 'failed'; else "
        "'finished'; keys are task.get_name()",
    )
    end = start + max(op.duration if op.duration <= grace else grace + op.cleanup for op in operations)
    chain.require(
        returned == end,
        f"{call} returns when the last task has ended (t={end:g})",
        observed=f"it returned at t={returned:g}",
        hint="await the cancelled tasks so their cleanup finishes before you return"
        if returned < end
        else "don't wait out the whole grace period when every task has ended: asyncio.wait returns early",
    )
    chain.require(
        not run.unhandled,
        f"{call} leaves no failure unretrieved",
        observed=lambda: "; ".join(run.unhandled),
        hint="asyncio logs 'exception was never retrieved' for a task or future whose failure nobody reads: "
        "call task.exception() on each task, and make no futures (shield(), ensure_future()) you then drop",
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
            hint="after the grace period, call .cancel() on every task that is not done",
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
