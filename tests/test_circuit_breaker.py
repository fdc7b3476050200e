"""Properties of the chapter 7 reference (solutions/circuit_breaker.py) on random scenarios, in virtual time.

Calls arrive on a grid of quarter seconds from a clock that does not start at 0. A model
of the semantics (the module's docstring) predicts, call by call, whether the call is
made, and the state after it; the reference must agree with it, and emit exactly the
model's transitions.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.chapters.circuit_breaker.analysis import breaker_bands, breaker_transitions
from coursekit.chapters.circuit_breaker.given import BreakerState, CircuitOpenError
from coursekit.chapters.timeouts.given import Operation, OperationFailed
from coursekit.virtual_time import run_virtual
from solutions.circuit_breaker import CircuitBreaker

quarters = st.integers(0, 60).map(lambda n: n / 4)  # 0 .. 15 s between calls
starts = st.integers(0, 400).map(lambda n: n / 4)


class Model:
    """The semantics for calls one at a time, each ending at the instant it is made."""

    def __init__(self, threshold: int, timeout: float, limit: int) -> None:
        self.threshold, self.timeout, self.limit = threshold, timeout, limit
        self.state, self.failures, self.successes, self.opened_at = "closed", 0, 0, 0.0
        self.transitions: list[tuple[str, str]] = []

    def move(self, state: str) -> None:
        self.transitions.append((self.state, state))
        self.state = state

    def call(self, now: float, fails: bool) -> bool:
        if self.state == "open":
            if now < self.opened_at + self.timeout:
                return False
            self.move("half_open")
            self.successes = 0
        if self.state == "half_open":
            if fails:
                self.opened_at = now
                self.move("open")
            else:
                self.successes += 1
                if self.successes >= self.limit:
                    self.move("closed")
                    self.failures = self.successes = 0
            return True
        self.failures = self.failures + 1 if fails else 0
        if self.failures >= self.threshold:
            self.opened_at = now
            self.move("open")
        return True


@settings(max_examples=40, deadline=None)
@given(
    threshold=st.integers(1, 4),
    timeout=st.integers(1, 40).map(lambda n: n / 4),
    limit=st.integers(1, 3),
    calls=st.lists(st.tuples(quarters, st.booleans()), max_size=30),
    start=starts,
)
def test_sequential_calls_follow_the_model(
    threshold: int, timeout: float, limit: int, calls: list[tuple[float, bool]], start: float
) -> None:
    model = Model(threshold, timeout, limit)
    breaker = CircuitBreaker(threshold, timeout, limit, counted=(OperationFailed,))
    failing, working = Operation("down", 0.0, error=OperationFailed("x")), Operation("up", 0.0, result="ok")

    async def main() -> list[tuple[bool, str]]:
        await asyncio.sleep(start)
        seen = []
        for gap, fails in calls:
            await asyncio.sleep(gap)
            before = len(failing.calls) + len(working.calls)
            try:
                await breaker.call(failing if fails else working)
            except (OperationFailed, CircuitOpenError):
                pass
            seen.append((len(failing.calls) + len(working.calls) > before, breaker.state.value))
        return seen

    run = run_virtual(main, deadline=start + 1000)
    now = start
    for (gap, fails), (made, state) in zip(calls, run.unwrap(), strict=True):
        now += gap
        assert made == model.call(now, fails)
        assert state == model.state
    assert [(old, new) for _, old, new in breaker_transitions(run.events)] == model.transitions
    bands = breaker_bands(run.events, end=run.elapsed)
    assert all(earlier[1] == later[0] for earlier, later in zip(bands, bands[1:], strict=False))


@settings(max_examples=25, deadline=None)
@given(limit=st.integers(1, 4), arriving=st.integers(1, 10), duration=st.integers(1, 8).map(lambda n: n / 4))
def test_half_open_admits_at_most_limit_trials_and_rejects_the_rest_at_once(
    limit: int, arriving: int, duration: float
) -> None:
    breaker = CircuitBreaker(1, 5.0, limit, counted=(OperationFailed,))

    async def main() -> tuple[int, list[Any]]:
        try:
            await breaker.call(Operation("down", 0.0, error=OperationFailed("x")))
        except OperationFailed:
            pass
        await asyncio.sleep(5.0)
        service = Operation("trial", duration, result="ok")
        loop = asyncio.get_running_loop()

        async def one() -> Any:
            try:
                return await breaker.call(service)
            except CircuitOpenError:
                return ("rejected", loop.time())

        answers = await asyncio.gather(*(one() for _ in range(arriving)))
        return len(service.calls), answers

    made, answers = run_virtual(main, deadline=100).unwrap()
    assert made == min(limit, arriving)
    assert all(answer == ("rejected", 5.0) for answer in answers if answer != "ok")
    assert breaker.state is (BreakerState.CLOSED if arriving >= limit else BreakerState.HALF_OPEN)
