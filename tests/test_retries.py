"""Properties of the chapter 6 reference (solutions/retries.py) on random scenarios, in virtual time.

Delays and latencies are drawn on a grid of quarter seconds and each scenario's clock starts
somewhere other than 0; a wait that would end exactly at the deadline is left out (the
statement allows it, and the checks do not pin the tie).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import time
from email.utils import formatdate
from typing import Any

import httpx
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from coursekit.chapters.retries.given import (
    Permanent,
    RetryPolicy,
    ScriptedCall,
    Transient,
    delays_of,
    retry_after_seconds,
)
from coursekit.virtual_time import run_virtual
from solutions.retries import backoff_delays, is_retryable, retry, retry_after

quarters = st.integers(0, 40).map(lambda n: n / 4)
starts = st.integers(0, 400).map(lambda n: n / 4)
bases = st.integers(1, 40).map(lambda n: n / 8)


@settings(max_examples=60, deadline=None)
@given(
    strategy=st.sampled_from(["constant", "exponential", "full", "equal", "decorrelated"]),
    base=bases,
    factor=st.integers(1, 64),
    seed=st.integers(0, 10_000),
)
def test_backoff_delays_stay_within_their_bounds_and_repeat_with_the_seed(
    strategy: str, base: float, factor: int, seed: int
) -> None:
    cap = base * factor
    delays = list(itertools.islice(backoff_delays(strategy, base=base, cap=cap, rng=random.Random(seed)), 30))  # type: ignore[arg-type]
    previous = base
    for n, delay in enumerate(delays):
        v = min(cap, base * 2**n)
        low, high = {
            "constant": (base, base),
            "exponential": (v, v),
            "full": (0.0, v),
            "equal": (v / 2, v),
            "decorrelated": (base, min(cap, 3 * previous)),
        }[strategy]
        assert low <= delay <= high
        previous = delay
    again = list(itertools.islice(backoff_delays(strategy, base=base, cap=cap, rng=random.Random(seed)), 30))  # type: ignore[arg-type]
    assert again == delays


@settings(max_examples=30, deadline=None)
@given(strategy=st.sampled_from(["full", "equal"]), base=bases, factor=st.integers(1, 64), seed=st.integers(0, 10_000))
def test_jitter_covers_its_whole_range(strategy: str, base: float, factor: int, seed: int) -> None:
    cap = base * factor
    delays = itertools.islice(backoff_delays(strategy, base=base, cap=cap, rng=random.Random(seed)), 200)  # type: ignore[arg-type]
    positions = []
    for n, delay in enumerate(delays):
        v = min(cap, base * 2**n)
        low = 0.0 if strategy == "full" else v / 2
        positions.append((delay - low) / (v - low))
    assert min(positions) <= 0.1 and max(positions) >= 0.9


@settings(max_examples=40, deadline=None)
@given(status=st.integers(100, 599))
def test_a_response_is_retryable_exactly_when_429_or_5xx(status: int) -> None:
    request = httpx.Request("GET", "http://service.test/")
    response = httpx.Response(status, request=request)
    expected = status == 429 or status >= 500
    assert is_retryable(response) is expected
    assert is_retryable(httpx.HTTPStatusError("x", request=request, response=response)) is expected


@settings(max_examples=40, deadline=None)
@given(seconds=st.integers(-3600, 3600), date=st.integers(0, 2_000_000_000))
def test_retry_after_reads_a_date_against_the_response_date(seconds: int, date: int) -> None:
    headers = {"date": formatdate(date, usegmt=True), "retry-after": formatdate(date + seconds, usegmt=True)}
    assert retry_after(httpx.Response(429, headers=headers)) == max(0.0, float(seconds))
    assert retry_after(httpx.Response(429, headers={"retry-after": str(abs(seconds))})) == float(abs(seconds))


@settings(max_examples=20, deadline=None)
@given(seconds=st.integers(0, 3600), date=st.sampled_from([None, "", "yesterday", "Mon, 99 Foo 2026 25:61:00 GMT"]))
def test_retry_after_without_a_readable_date_reads_the_wall_clock(seconds: int, date: str | None) -> None:
    when = math.ceil(time.time()) + seconds
    headers = {"retry-after": formatdate(when, usegmt=True)} | ({} if date is None else {"date": date})
    before = time.time()
    answer = retry_after(httpx.Response(503, headers=headers))
    after = time.time()
    assert answer is not None and when - after <= answer <= when - before


outcomes = st.sampled_from(["transient", "permanent", "ok", "503", "404"])


def _outcome(kind: str, n: int) -> Any:
    if kind == "transient":
        return Transient(f"t{n}")
    if kind == "permanent":
        return Permanent(f"p{n}")
    if kind == "ok":
        return f"ok{n}"
    return httpx.Response(int(kind))


@settings(max_examples=80, deadline=None)
@given(
    kinds=st.lists(outcomes, min_size=1, max_size=8),
    attempts=st.integers(1, 8),
    delays=st.lists(quarters, min_size=0, max_size=8),
    deadline=st.none() | st.integers(1, 40).map(lambda n: n / 2),
    latency=quarters,
    start=starts,
)
def test_retry_counts_attempts_and_respects_the_deadline(
    kinds: list[str], attempts: int, delays: list[float], deadline: float | None, latency: float, start: float
) -> None:
    script = [_outcome(kind, n) for n, kind in enumerate(kinds)]
    call = ScriptedCall(script, latency=latency)
    policy = RetryPolicy(attempts=attempts, delays=delays_of(delays), deadline=deadline)

    async def main() -> tuple[Any, float]:
        await asyncio.sleep(start)
        return await retry(call, policy), asyncio.get_running_loop().time()

    run = run_virtual(main, deadline=start + 1000)
    # The model: who is called when, and what comes out.
    times, now, n = [], start, 0
    while True:
        times.append(now)
        now += latency
        outcome = script[min(n, len(script) - 1)]
        retryable = isinstance(outcome, Transient) or (
            isinstance(outcome, httpx.Response) and outcome.status_code >= 500
        )
        if not retryable or n + 1 >= attempts or n >= len(delays):
            break
        if deadline is not None:
            assume(now + delays[n] != start + deadline)
            if now + delays[n] > start + deadline:
                break
        now += delays[n]
        n += 1
    assert call.calls == times
    assert len(call.calls) <= attempts
    if deadline is not None:
        assert all(t <= start + deadline for t in call.calls)
    if isinstance(outcome, Exception):
        assert run.error is outcome and run.elapsed == now
    else:
        assert run.unwrap() == (outcome, now)
    assert not run.leftover and not run.unhandled


@settings(max_examples=20, deadline=None)
@given(asked=st.integers(0, 30), delay=quarters, start=starts)
def test_retry_waits_what_retry_after_asks(asked: int, delay: float, start: float) -> None:
    busy = httpx.Response(429, headers={"retry-after": str(asked)})
    call = ScriptedCall([busy, "ok"])
    policy = RetryPolicy(attempts=3, delays=delays_of([delay] * 3), retry_after=retry_after_seconds)

    async def main() -> Any:
        await asyncio.sleep(start)
        return await retry(call, policy)

    assert run_virtual(main, deadline=start + 100).unwrap() == "ok"
    assert call.calls == [start, start + asked]


@settings(max_examples=20, deadline=None)
@given(seconds=st.integers(1, 100_000), date=st.sampled_from([None, "yesterday"]))
def test_retry_after_is_never_below_zero(seconds: int, date: str | None) -> None:
    past = formatdate(math.floor(time.time()) - seconds, usegmt=True)
    headers = {"retry-after": past} | ({} if date is None else {"date": date})
    assert retry_after(httpx.Response(503, headers=headers)) == 0.0
    assert retry_after(httpx.Response(503, headers={"retry-after": f"-{seconds}"})) in (0.0, None)


@settings(max_examples=20, deadline=None)
@given(at=st.integers(1, 60).map(lambda n: n / 4 + 0.125), start=starts)
def test_a_cancelled_retry_raises_cancelled_error_and_calls_no_more(at: float, start: float) -> None:
    call = ScriptedCall([Transient("dropped")], latency=0.5)
    policy = RetryPolicy(attempts=8, delays=delays_of([1.0, 0.5, 2.0, 0.25, 1.5, 0.75, 1.0]))

    async def main() -> tuple[bool, list[float]]:
        await asyncio.sleep(start)
        task = asyncio.ensure_future(retry(call, policy))
        await asyncio.wait([task], timeout=at)
        task.cancel()
        await asyncio.wait([task])
        seen = list(call.calls)
        await asyncio.sleep(10)
        return task.cancelled(), seen

    run = run_virtual(main, deadline=start + 100)
    cancelled, seen = run.unwrap()
    uncancelled_end = 8 * 0.5 + 7.0  # eight calls of 0.5 s and the seven delays
    assert cancelled is (at < uncancelled_end)
    assert call.calls == seen and all(t <= start + at for t in seen)
    assert not run.leftover and not run.unhandled
