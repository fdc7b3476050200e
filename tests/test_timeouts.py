"""Properties of the chapter 5 reference (solutions/timeouts.py) on random scenarios, in virtual time.

Times are drawn on a grid of quarter seconds, and the clock of each scenario starts
somewhere other than 0. An operation that would end at the very instant of its deadline
is left out: the statements leave that tie open.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from coursekit.chapters.timeouts.given import Operation, OperationFailed
from coursekit.virtual_time import run_virtual
from solutions.timeouts import Deadline, call_with_fallback, shutdown

quarters = st.integers(1, 40).map(lambda n: n / 4)  # 0.25 .. 10 s
starts = st.integers(0, 400).map(lambda n: n / 4)


@settings(max_examples=25, deadline=None)
@given(duration=quarters, timeout=quarters, cleanup=st.integers(0, 8).map(lambda n: n / 4), start=starts)
def test_call_with_fallback_returns_the_result_in_time_and_the_fallback_after_cleanup(
    duration: float, timeout: float, cleanup: float, start: float
) -> None:
    assume(duration != timeout)  # a tie is left open by the statement
    operation = Operation("op", duration, result="fresh", cleanup=cleanup)

    async def main() -> tuple[Any, float]:
        await asyncio.sleep(start)
        value = await call_with_fallback(operation, timeout, "fallback")
        return value, asyncio.get_running_loop().time() - start

    run = run_virtual(main, deadline=start + 100)
    value, took = run.unwrap()
    (call,) = operation.calls
    if duration < timeout:
        assert (value, took, call.cancelled_at) == ("fresh", duration, None)
    else:
        assert (value, took) == ("fallback", timeout + cleanup)
        assert call.cancelled_at == start + timeout
        assert (call.cleaned_up is not None) == (cleanup > 0)
    assert not run.leftover and not run.unhandled


@settings(max_examples=15, deadline=None)
@given(fails_after=quarters, extra=quarters, own_timeout=st.booleans())
def test_call_with_fallback_lets_errors_through(fails_after: float, extra: float, own_timeout: bool) -> None:
    error: Exception = TimeoutError("own") if own_timeout else OperationFailed("broken")
    run = run_virtual(call_with_fallback(Operation("op", fails_after, error=error), fails_after + extra, "fallback"))
    assert run.error is error


@settings(max_examples=25, deadline=None)
@given(start=starts, seconds=quarters, probes=st.lists(st.integers(0, 80).map(lambda n: n / 4), max_size=6))
def test_deadline_reads_the_loop_clock(start: float, seconds: float, probes: list[float]) -> None:
    async def main() -> list[tuple[float, float, bool, float]]:
        await asyncio.sleep(start)
        deadline = Deadline.after(seconds)
        seen = []
        for at in sorted(probes):
            await asyncio.sleep(start + at - asyncio.get_running_loop().time())
            now = asyncio.get_running_loop().time()
            seen.append((now, deadline.remaining(), deadline.expired(), deadline.child(seconds / 2).when))
        return seen

    for now, remaining, expired, child_when in run_virtual(main, deadline=start + 100).unwrap():
        assert remaining == max(0.0, start + seconds - now)
        assert expired == (now >= start + seconds)
        assert child_when == min(start + seconds, now + seconds / 2)


@settings(max_examples=25, deadline=None)
@given(
    tasks=st.lists(st.tuples(quarters, st.booleans(), st.integers(0, 4).map(lambda n: n / 4)), max_size=6),
    grace=quarters,
    start=starts,
)
def test_shutdown_reports_each_task_and_returns_when_the_last_has_ended(
    tasks: list[tuple[float, bool, float]], grace: float, start: float
) -> None:
    assume(all(duration != grace for duration, _, _ in tasks))  # a tie is left open by the statement
    operations = [
        Operation(f"t{n}", duration, error=OperationFailed("x") if fails else None, cleanup=cleanup)
        for n, (duration, fails, cleanup) in enumerate(tasks)
    ]

    async def main() -> tuple[dict[str, str], float]:
        await asyncio.sleep(start)
        running = [asyncio.create_task(op(), name=op.name) for op in operations]
        report = await shutdown(running, grace)
        return dict(report), asyncio.get_running_loop().time() - start

    run = run_virtual(main, deadline=start + 100)
    report, took = run.unwrap()
    expected = {
        op.name: "cancelled" if op.duration > grace else "failed" if op.error else "finished" for op in operations
    }
    assert report == expected
    assert took == max((op.duration if op.duration <= grace else grace + op.cleanup for op in operations), default=0)
    assert not run.unhandled and not run.leftover
