"""Properties of the chapter 8 reference (solutions/rate_limiting.py) on random scenarios, in virtual time.

Requests arrive on a grid of 1/64 s from a clock that does not start at 0; rates are
powers of two, so that every instant is exact. Models of the statements (the checks'
``bucket_schedule``, ``log_schedule`` and ``BucketModel``) predict when each request
passes, or what each decision is; the reference must agree with them exactly. The
course's middleware and the event analysis used by the pictures are tested here too.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.chapters.rate_limiting import checks as limiter_checks
from coursekit.chapters.rate_limiting.analysis import (
    admissions,
    bucket_tokens,
    busiest_window,
    most_in_any_window,
    per_window,
)
from coursekit.chapters.rate_limiting.checks import (
    BucketModel,
    bucket_schedule,
    check_log_limit,
    log_schedule,
    worst_bucket_window,
)
from coursekit.chapters.rate_limiting.given import Decision, RateLimitMiddleware, Timed, bursty_arrivals, timed_acquire
from coursekit.checks import CheckFailed
from coursekit.events import Event
from coursekit.service import BASE_URL, Service
from coursekit.virtual_time import VirtualRun, run_virtual
from solutions.rate_limiting import PerClientLimiter, SlidingLogLimiter, TokenBucket
from tests.wrong_cases import wrong_cases

grid = st.integers(0, 64 * 3).map(lambda n: n / 64)  # 0 .. 3 s between arrivals
starts = st.integers(0, 64 * 20).map(lambda n: n / 64)
rates = st.sampled_from([0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0])
TOLERANCE = 1e-5


async def arrivals(plan: list[tuple[float, Any, int]]) -> list[Timed]:
    loop = asyncio.get_running_loop()
    tasks = []
    for number, (when, call, amount) in enumerate(plan, 1):
        await asyncio.sleep(max(0.0, when - loop.time()))
        tasks.append(asyncio.create_task(timed_acquire(call, number, amount)))
    return list(await asyncio.gather(*tasks))


@settings(max_examples=60, deadline=None)
@given(
    rate=rates,
    capacity=st.integers(1, 8),
    gaps=st.lists(st.tuples(grid, st.integers(1, 8)), max_size=25),
    start=starts,
)
def test_bucket_admits_each_request_when_the_model_says(
    rate: float, capacity: int, gaps: list[tuple[float, int]], start: float
) -> None:
    plan: list[tuple[float, int]] = []
    now = start
    for gap, amount in gaps:
        now += gap if plan else 0.0
        plan.append((now, min(amount, capacity)))
    bucket = TokenBucket(rate, capacity)

    async def main() -> list[Timed]:
        return await arrivals([(when, functools.partial(bucket.acquire, amount), amount) for when, amount in plan])

    timed = run_virtual(main, deadline=start + 2000).unwrap()
    expected = bucket_schedule(plan, rate, capacity)
    assert [r.admitted for r in timed] == pytest.approx(expected, abs=TOLERANCE)
    a, b, total = worst_bucket_window([(r.admitted or 0.0, r.amount) for r in timed], rate, capacity)
    assert total <= capacity + rate * (b - a) + TOLERANCE


@settings(max_examples=40, deadline=None)
@given(
    rate=rates,
    capacity=st.integers(1, 4),
    waiters=st.integers(1, 12),
    cancelled=st.sets(st.integers(0, 11)),
    cancel_at=st.integers(1, 64 * 4).map(lambda n: n / 64),
    start=starts,
)
def test_bucket_cancelled_waiters_leak_nothing(
    rate: float, capacity: int, waiters: int, cancelled: set[int], cancel_at: float, start: float
) -> None:
    """Cancelled waiters take nothing: the others pass in order, never later than if nobody had been
    cancelled, exactly as if the cancelled ones that had not passed had never asked, and within the bound."""
    bucket = TokenBucket(rate, capacity)

    async def main() -> tuple[list[Timed | BaseException], list[bool]]:
        await asyncio.sleep(start)
        tasks = [asyncio.create_task(timed_acquire(bucket.acquire, n)) for n in range(capacity + waiters)]
        await asyncio.sleep(cancel_at)
        chosen = [capacity + i for i in sorted(cancelled) if i < waiters]
        for index in chosen:
            tasks[index].cancel()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        return done, [tasks[i].cancelled() for i in range(len(tasks))]

    done, was_cancelled = run_virtual(main, deadline=start + 2000).unwrap()
    survivors = [r for r in done if isinstance(r, Timed)]
    gone = sum(was_cancelled)
    expected = bucket_schedule([(start, 1)] * (capacity + waiters - gone), rate, capacity)
    assert [r.admitted for r in survivors] == pytest.approx(expected, abs=TOLERANCE)


@settings(max_examples=60, deadline=None)
@given(
    limit=st.integers(1, 6),
    window=st.sampled_from([0.25, 0.5, 1.0, 2.0]),
    gaps=st.lists(grid, max_size=25),
    start=starts,
)
def test_sliding_log_admits_each_request_when_the_model_says(
    limit: int, window: float, gaps: list[float], start: float
) -> None:
    plan: list[float] = []
    now = start
    for gap in gaps:
        now += gap / 4 if plan else 0.0
        plan.append(now)
    limiter = SlidingLogLimiter(limit, window)

    async def main() -> list[Timed]:
        return await arrivals([(when, limiter.acquire, 1) for when in plan])

    timed = run_virtual(main, deadline=start + 2000).unwrap()
    assert [r.admitted for r in timed] == pytest.approx(log_schedule(plan, limit, window), abs=TOLERANCE)
    assert busiest_window([r.admitted or 0.0 for r in timed], window).count <= limit


@settings(max_examples=60, deadline=None)
@given(
    limit=st.integers(1, 5),
    window=st.sampled_from([0.25, 0.5, 1.0]),
    gaps=st.lists(st.integers(0, 48).map(lambda n: n / 64), max_size=40),
    start=starts,
)
def test_try_acquire_answers_like_a_log_of_admissions(
    limit: int, window: float, gaps: list[float], start: float
) -> None:
    limiter = SlidingLogLimiter(limit, window)

    async def main() -> list[tuple[float, bool]]:
        await asyncio.sleep(start)
        loop, answers = asyncio.get_running_loop(), []
        for gap in gaps:
            await asyncio.sleep(gap)
            asked = loop.time()
            answers.append((asked, await limiter.try_acquire()))
            assert loop.time() == asked
        return answers

    answers = run_virtual(main, deadline=start + 2000).unwrap()
    log: list[float] = []
    for now, answer in answers:
        recent = [s for s in log if s + window > now]
        assert answer == (len(recent) < limit)
        if answer:
            log.append(now)


@settings(max_examples=40, deadline=None)
@given(
    rate=rates,
    capacity=st.integers(1, 6),
    calls=st.lists(
        st.tuples(st.integers(0, 32).map(lambda n: n / 64), st.sampled_from(["a", "b", "c", "new"]), st.integers(1, 6)),
        max_size=60,
    ),
    slack=st.integers(1, 3),
    start=starts,
)
def test_per_client_decisions_follow_the_model_and_memory_stays_bounded(
    rate: float, capacity: int, calls: list[tuple[float, str, int]], slack: int, start: float
) -> None:
    idle_after = slack * capacity / rate
    limiter = PerClientLimiter(rate, capacity, idle_after)

    async def main() -> list[tuple[float, str, int, Decision, int]]:
        await asyncio.sleep(start)
        loop, seen = asyncio.get_running_loop(), []
        for number, (gap, client, amount) in enumerate(calls):
            await asyncio.sleep(gap)
            name = f"new-{number}" if client == "new" else client
            amount = min(amount, capacity)
            seen.append((loop.time(), name, amount, limiter.try_acquire(name, amount), len(limiter)))
        return seen

    model = BucketModel(rate, capacity)
    seen = run_virtual(main, deadline=start + 2000).unwrap()
    for now, name, amount, decision, size in seen:
        expected = model.ask(name, amount, now)
        assert decision.admitted == expected.admitted
        assert decision.retry_after == pytest.approx(expected.retry_after, abs=TOLERANCE)
        recent = {other for when, other, *_ in seen if now - 2 * idle_after < when <= now}
        assert size <= len(recent)


def test_per_client_limiter_refuses_more_than_capacity_and_short_idle() -> None:
    with pytest.raises(ValueError):
        PerClientLimiter(2.0, 4, 1.0)  # idle_after below capacity / rate

    async def main() -> None:
        PerClientLimiter(2.0, 4, 2.0).try_acquire("x", 5)

    assert isinstance(run_virtual(main).error, ValueError)


def test_bucket_refuses_more_than_capacity_at_once() -> None:
    bucket = TokenBucket(2.0, 3)

    async def main() -> float:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(1.5)
        with pytest.raises(ValueError):
            await bucket.acquire(4)
        return loop.time()

    assert run_virtual(main).unwrap() == 1.5


def test_middleware_answers_429_with_retry_after_and_passes_the_rest() -> None:
    service = Service(seed=1)
    guarded = RateLimitMiddleware(service, PerClientLimiter(0.5, 2, 4.0))

    async def main() -> list[tuple[str, int, str | None]]:
        transport = httpx.ASGITransport(app=guarded)
        answers = []
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            for who in ("a", "a", "a", "b"):
                response = await client.get("/items/1", headers={"x-client-id": who})
                answers.append((who, response.status_code, response.headers.get("retry-after")))
        return answers

    run = run_virtual(main)
    assert run.unwrap() == [("a", 200, None), ("a", 200, None), ("a", 429, "2"), ("b", 200, None)]
    assert len(service.log) == 3  # the refused request never reached the service
    limited = run.of_kind("middleware.limited")
    assert [(e["client"], e["retry_after"]) for e in limited] == [("a", 2)]


def test_middleware_uses_the_address_without_a_client_id_header() -> None:
    service = Service(seed=1)
    guarded = RateLimitMiddleware(service, PerClientLimiter(1.0, 1, 1.0))

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=guarded)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            return [(await client.get("/items/1")).status_code for _ in range(2)]

    assert run_virtual(main).unwrap() == [200, 429]


def test_bursty_arrivals_are_seeded_and_on_a_binary_grid() -> None:
    first = bursty_arrivals(8)
    assert first == bursty_arrivals(8) != bursty_arrivals(9)
    assert first == sorted(first) and all((t * 64).is_integer() for t in first)


def test_tokens_follow_admissions_and_windows_count() -> None:
    events = [Event(0.5, "limiter.request", None, {})] + [
        Event(t, "limiter.admitted", None, {"amount": 1, "waited": 0.0}) for t in (0.5, 0.5, 1.5, 3.0)
    ]
    times, tokens = bucket_tokens(events, rate=1.0, capacity=2)
    assert list(zip(times, tokens, strict=True)) == [
        (0.5, 2.0),
        (0.5, 1.0),
        (0.5, 0.0),
        (1.5, 1.0),
        (1.5, 0.0),
        (3.0, 1.5),
        (3.0, 0.5),
    ]
    times, tokens = bucket_tokens(events, rate=4.0, capacity=2)
    assert (1.0, 2.0) in zip(times, tokens, strict=True)  # full again at 0.5 + 2 / 4, and no fuller
    assert most_in_any_window([0.5, 0.5, 1.5, 3.0], 1.0) == 2
    assert most_in_any_window([0.5, 0.5, 1.4, 3.0], 1.0) == 3
    assert per_window([0.5, 0.5, 1.5, 3.0], 1.0, 4.0) == ([0.0, 1.0, 2.0, 3.0], [2, 1, 0, 1])


def test_the_window_check_and_the_window_picture_measure_one_trace_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """check_log_limit's verdict and the admissions picture's "at most N in any window" come from one
    measure (analysis_rate_limiting.busiest_window): on the events of the check's own run of a fixed
    window (the wrong implementation rate_limiting/log_fixed_window), the picture's reading says the
    count the check observed."""
    (fixed_window,) = [case for case in wrong_cases("rate_limiting") if case.name == "log_fixed_window"]
    runs: list[VirtualRun[Any]] = []

    def keep(*args: Any, **kwargs: Any) -> VirtualRun[Any]:
        runs.append(run_virtual(*args, **kwargs))
        return runs[-1]

    monkeypatch.setattr(limiter_checks, "run_virtual", keep)  # the chapter runs its scenarios itself
    with pytest.raises(CheckFailed) as failure:
        check_log_limit(fixed_window.names()["SlidingLogLimiter"])
    (run,) = runs
    window = busiest_window([when for when, _, _ in admissions(run.events)], 1.0)
    assert window.count > 3, "a fixed window lets more than the limit through around its reset"
    assert f"{window.count} passed from t={window.first:g} to t={window.last:g}" in failure.value.observed
