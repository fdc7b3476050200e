"""Properties of the chapter 10 reference (solutions/resilient_client.py) on random scenarios, in virtual time.

``fetch`` runs against a scripted transport (each attempt's answer: 200, 404, 503, 429 with a
Retry-After, or no answer at all) with random attempts, delays, deadlines and attempt
timeouts; a model of the module's docstring predicts when each request is made and how the
call ends, and the reference must agree. ``get``'s bulkhead and cache are checked against
random loads, and the whole client against a real breaker (purgatory's, on the loop's clock)
through an outage.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.chapters.circuit_breaker.given import CircuitOpenError
from coursekit.chapters.resilient_client.checks import Spies
from coursekit.chapters.resilient_client.given import ClientPolicy, FailedAnswer, breakers_of, delays_of
from coursekit.service import Faults, Latency, Service
from coursekit.virtual_time import run_virtual
from solutions.resilient_client import ResilientClient

quarters = st.integers(1, 16).map(lambda n: n / 4)
starts = st.integers(0, 400).map(lambda n: n / 4)
answers = st.one_of(
    st.sampled_from(["200", "404", "503", "hang"]),
    st.integers(1, 5).map(lambda seconds: f"429:{seconds}"),
)


def scripted(script: list[str], made: list[float]) -> httpx.AsyncClient:
    """A client whose n-th request gets ``script[n]`` (the last one repeats); request times go to ``made``."""

    async def handler(request: httpx.Request) -> httpx.Response:
        made.append(asyncio.get_running_loop().time())
        answer = script[min(len(made) - 1, len(script) - 1)]
        if answer == "hang":
            await asyncio.Event().wait()
        if answer.startswith("429:"):
            return httpx.Response(429, headers={"retry-after": answer[4:]})
        return httpx.Response(int(answer), json={"answer": answer})

    return httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://scripted.test")


def model(
    script: list[str], attempts: int, delays: list[float], deadline: float | None, timeout: float
) -> tuple[list[float], str, float]:
    """(request times, how fetch ends: a status or an error type, when), from the call's start."""
    now, made = 0.0, []
    ends = None if deadline is None else deadline
    for number in range(1, attempts + 1):
        answer = script[min(number - 1, len(script) - 1)]
        made.append(now)
        if answer in ("200", "404"):
            return made, answer, now
        if answer == "hang":
            now = now + (timeout if ends is None else min(timeout, ends - now))
            error = "TimeoutError"
        else:
            error = "FailedAnswer"
        if number == attempts:
            return made, error, now
        wait = delays[number - 1] if number - 1 < len(delays) else None
        if answer.startswith("429:"):
            wait = float(answer[4:])
        if wait is None or (ends is not None and now + wait >= ends):
            return made, error, now
        now += wait
    raise AssertionError("not reached")


@settings(max_examples=60, deadline=None)
@given(
    script=st.lists(answers, min_size=1, max_size=6),
    attempts=st.integers(1, 5),
    delays=st.lists(quarters, max_size=5),
    deadline=st.one_of(st.none(), st.integers(2, 40).map(lambda n: n / 2)),
    timeout=quarters,
    start=starts,
)
def test_fetch_follows_the_model(
    script: list[str], attempts: int, delays: list[float], deadline: float | None, timeout: float, start: float
) -> None:
    made: list[float] = []
    policy = ClientPolicy(attempt_timeout=timeout, attempts=attempts, delays=delays_of(delays), deadline=deadline)
    spies = Spies()

    async def main() -> tuple[str, float, float]:
        await asyncio.sleep(start)
        loop = asyncio.get_running_loop()
        async with scripted(script, made) as http:
            client = ResilientClient(
                http, policy, breaker_factory=spies.breaker_factory, limiter_factory=spies.limiter_factory
            )
            began = loop.time()
            try:
                response = await client.fetch("/items/1")
                return str(response.status_code), began, loop.time()
            except (FailedAnswer, TimeoutError) as error:
                return type(error).__name__, began, loop.time()

    outcome, began, ended = run_virtual(main, deadline=start + 400).unwrap()
    expected_made, expected_outcome, expected_end = model(script, attempts, delays, deadline, timeout)
    assert [round(time - began, 9) for time in made] == expected_made
    assert outcome == expected_outcome
    assert abs(ended - began - expected_end) < 1e-9
    assert len(spies.limiters[0].admissions) == len(made)  # one admission per request
    assert len(spies.breakers[0].calls) == len(made)  # every request through the host's one breaker


@settings(max_examples=40, deadline=None)
@given(
    limit=st.integers(1, 6),
    latencies=st.lists(quarters, max_size=12),
    start=starts,
)
def test_bulkhead_caps_and_never_rejects(limit: int, latencies: list[float], start: float) -> None:
    service = Service(seed=1, faults=Faults(latency=Latency.uniform(0.25, 4.0)))

    async def main() -> list[Any]:
        await asyncio.sleep(start)
        async with service.client() as http:
            client = ResilientClient(
                http,
                ClientPolicy(attempt_timeout=10.0, max_in_flight=limit),
                breaker_factory=Spies().breaker_factory,
                limiter_factory=Spies().limiter_factory,
            )
            return list(await asyncio.gather(*(client.get(f"/items/{n}") for n in range(len(latencies)))))

    responses = run_virtual(main, deadline=start + 400).unwrap()
    assert all(response.status_code == 200 for response in responses)
    marks = sorted([(r.time, 1) for r in service.log] + [(r.ended or 0.0, -1) for r in service.log])
    count = peak = 0
    for _, change in sorted(marks, key=lambda mark: (mark[0], mark[1])):
        count += change
        peak = max(peak, count)
    assert peak == min(limit, len(latencies))


@settings(max_examples=40, deadline=None)
@given(gaps=st.lists(quarters, min_size=1, max_size=12), ttl=st.integers(0, 12).map(lambda n: n / 2), start=starts)
def test_cache_requests_only_when_nothing_fresh(gaps: list[float], ttl: float, start: float) -> None:
    service = Service(seed=1, faults=Faults(latency=Latency.fixed(0.0)))

    async def main() -> None:
        await asyncio.sleep(start)
        async with service.client() as http:
            client = ResilientClient(
                http,
                ClientPolicy(cache_ttl=ttl),
                breaker_factory=Spies().breaker_factory,
                limiter_factory=Spies().limiter_factory,
            )
            for gap in gaps:
                await asyncio.sleep(gap)
                await client.get("/items/1")

    run_virtual(main, deadline=start + 400).unwrap()
    expected, stored, now = 0, None, 0.0
    for gap in gaps:
        now += gap
        if ttl <= 0 or stored is None or now >= stored + ttl:
            expected, stored = expected + 1, now
    assert len(service.log) == expected


@settings(max_examples=20, deadline=None)
@given(threshold=st.integers(1, 5), calls=st.integers(1, 30), start=starts)
def test_a_shared_breaker_stops_the_requests_of_an_outage(threshold: int, calls: int, start: float) -> None:
    """Calls one second apart through purgatory's breaker (60 s), the service down throughout, one attempt
    each: exactly ``min(threshold, calls)`` requests reach it; every later call fails fast."""
    service = Service(seed=1, faults=Faults(outages=((0.0, 1e9),)))

    async def main() -> list[str]:
        await asyncio.sleep(start)
        async with service.client() as http:
            client = ResilientClient(
                http,
                ClientPolicy(attempts=1),
                breaker_factory=breakers_of(threshold, 60.0),
                limiter_factory=Spies().limiter_factory,
            )
            outcomes = []
            for n in range(calls):
                try:
                    await client.get(f"/items/{n}")
                except (CircuitOpenError, FailedAnswer) as error:
                    outcomes.append(type(error).__name__)
                await asyncio.sleep(1.0)
            return outcomes

    outcomes = run_virtual(main, deadline=start + 100).unwrap()
    assert len(service.log) == min(threshold, calls)
    assert outcomes == ["FailedAnswer"] * min(threshold, calls) + ["CircuitOpenError"] * max(0, calls - threshold)
