"""Properties of the chapter 4 reference (solutions/fan_out_fan_in.py), on random scenarios, in virtual time."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit import VirtualRun, emit, run_virtual
from coursekit.analysis import idle_slots
from coursekit.chapters.fan_out_fan_in.analysis import peak_requests
from coursekit.chapters.fan_out_fan_in.checks import _due, _streams
from coursekit.chapters.fan_out_fan_in.given import body_of, items_service
from coursekit.checks import leaf_exceptions
from coursekit.service import BASE_URL
from coursekit.service.connections import Connections
from coursekit.workload import ItemFailed, Workload
from solutions.fan_out_fan_in import fetch_all, first_success, merge, run_all

durations = st.sampled_from([0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0])


@settings(max_examples=40, deadline=None)
@given(data=st.data(), count=st.integers(0, 15), limit=st.integers(1, 6))
def test_fetch_all_answers_every_url_in_place_through_one_client(data: st.DataObject, count: int, limit: int) -> None:
    items = data.draw(st.lists(st.integers(1, 12), min_size=count, max_size=count))  # repeats allowed
    kinds = {n: data.draw(st.sampled_from(["ok", "ok", "failing", "refused", "hanging"])) for n in set(items)}
    slow = [(n, data.draw(durations)) for n in set(items)]
    service = items_service(
        latency=1.0,
        slow=slow,
        failing={n for n, kind in kinds.items() if kind == "failing"},
        refused={n for n, kind in kinds.items() if kind == "refused"},
        hanging={n for n, kind in kinds.items() if kind == "hanging"},
        items=items,
    )
    connections = Connections(service, connect_time=0.1)

    async def scenario() -> Any:
        async with connections.client(timeout=4.0) as client:
            return await fetch_all(client, [f"{BASE_URL}/items/{n}" for n in items], limit=limit)

    run = run_virtual(scenario)
    assert run.outcome == "returned", run.diagnosis
    results = run.unwrap()
    assert len(results) == count
    for n, result in zip(items, results, strict=True):
        if kinds[n] in ("failing", "refused"):
            assert isinstance(result, httpx.HTTPStatusError)
            assert result.response.status_code in ((500, 503) if kinds[n] == "failing" else (429,))
            assert result.request.url.path == f"/items/{n}"
        elif kinds[n] == "hanging":
            assert isinstance(result, httpx.ReadTimeout)
        else:
            assert result == body_of(n)
    assert sorted(record.path for record in service.log) == sorted(f"/items/{n}" for n in items)
    assert connections.clients == 1
    assert peak_requests(run.events) == min(limit, count)
    assert idle_slots(run.events, count, limit) is None  # a free place is taken at once
    hung = sum(kinds[n] == "hanging" for n in items)
    assert connections.opened <= min(limit, count) + hung  # kept-alive connections are reused
    assert not run.leftover


@settings(max_examples=40, deadline=None)
@given(data=st.data(), size=st.integers(1, 8))
def test_run_all_is_all_or_nothing(data: st.DataObject, size: int) -> None:
    items = list(range(size))
    duration = [data.draw(durations) for _ in items]
    failing = data.draw(st.sets(st.sampled_from(items)))
    work = Workload(duration.__getitem__, failing)
    outcome: dict[str, Any] = {}

    async def scenario() -> None:
        try:
            outcome["value"] = await run_all(work, items)
        except ExceptionGroup as error:
            outcome["error"], outcome["at"] = error, asyncio.get_running_loop().time()
            emit("test.raised")
        await asyncio.sleep(max(duration) + 1)

    run = run_virtual(scenario)
    assert run.outcome == "returned", run.diagnosis
    assert not run.leftover
    if not failing:
        assert outcome["value"] == [work.expected(item) for item in items]
        return
    first = min(duration[item] for item in failing)
    assert outcome["at"] == pytest.approx(first)
    leaves = leaf_exceptions(outcome["error"])
    assert leaves and all(isinstance(error, ItemFailed) for error in leaves)
    assert {str(error) for error in leaves} == {f"item {item!r} failed" for item in failing if duration[item] == first}
    # Nothing runs on after run_all raised: every sibling ended before it.
    raised = next(i for i, event in enumerate(run.events) if event.kind == "test.raised")
    after = run.events[raised:]
    assert not [event for event in after if event.kind in ("work.start", "work.end")]
    for item in items:
        if duration[item] > first:
            assert work.completed[item] == 0


stream_specs = st.lists(st.tuples(st.sampled_from([0.25, 0.5, 0.7, 1.0]), st.integers(0, 6)), min_size=0, max_size=4)


@settings(max_examples=30, deadline=None)
@given(spec=stream_specs)
def test_merge_yields_every_item_once_when_it_is_due(spec: list[tuple[float, int]]) -> None:
    closed: set[str] = set()
    sources = _streams(spec, closed)
    received: list[tuple[float, Any]] = []

    async def scenario() -> None:
        async for item in merge(*sources):
            received.append((asyncio.get_running_loop().time(), item))

    run = run_virtual(scenario)
    assert run.outcome == "returned", run.diagnosis
    due = _due(spec)
    assert sorted(item for _, item in received) == sorted(due)
    assert all(at == pytest.approx(due[item]) for at, item in received)
    assert run.elapsed == pytest.approx(max(due.values(), default=0.0))
    assert len(closed) == len(spec)
    assert not run.leftover


@settings(max_examples=30, deadline=None)
@given(spec=stream_specs.filter(lambda s: sum(count for _, count in s) > 0), data=st.data())
def test_merge_stopped_early_closes_every_stream_and_leaves_no_task(
    spec: list[tuple[float, int]], data: st.DataObject
) -> None:
    take = data.draw(st.integers(1, sum(count for _, count in spec)))
    closed: set[str] = set()
    sources = _streams(spec, closed)
    state: dict[str, Any] = {}

    async def scenario() -> None:
        async with contextlib.aclosing(merge(*sources)) as merged:
            got = 0
            async for _ in merged:
                got += 1
                if got == take:
                    break
        state["closed"] = len(closed)
        state["tasks"] = len(asyncio.all_tasks()) - 1  # all but the supervisor

    run = run_virtual(scenario)
    assert run.outcome == "returned", run.diagnosis
    assert state["closed"] == len(spec)
    assert state["tasks"] == 1  # only this scenario's own task
    assert not run.leftover


@settings(max_examples=20, deadline=None)
@given(spec=stream_specs.filter(lambda s: len(s) > 0), fail_at=st.sampled_from([0.1, 0.6, 1.2]))
def test_merge_reraises_a_stream_error_and_closes_the_rest(spec: list[tuple[float, int]], fail_at: float) -> None:
    closed: set[str] = set()
    sources = _streams(spec, closed)

    async def failing() -> Any:
        await asyncio.sleep(fail_at)
        raise ItemFailed("the stream broke")
        yield  # an async generator

    async def scenario() -> None:
        async for _ in merge(*sources, failing()):
            pass

    run = run_virtual(scenario)
    assert run.outcome == "raised" and isinstance(run.error, ItemFailed), run.diagnosis
    assert run.elapsed == pytest.approx(fail_at)
    assert len(closed) == len(spec)
    assert not run.leftover


@settings(max_examples=40, deadline=None)
@given(data=st.data(), size=st.integers(1, 6))
def test_first_success_returns_the_earliest_success_and_cancels_the_losers(data: st.DataObject, size: int) -> None:
    duration = [data.draw(durations) for _ in range(size)]
    failing = data.draw(st.sets(st.sampled_from(range(size))))
    work = Workload(duration.__getitem__, failing)
    attempts = [(lambda n=n: work(n)) for n in range(size)]
    run = run_virtual(lambda: first_success(*attempts))
    assert not run.leftover
    successes = sorted((duration[n], n) for n in range(size) if n not in failing)
    if successes:
        at, winner = successes[0]
        assert run.outcome == "returned", run.diagnosis
        assert run.value == work.expected(winner)
        assert run.elapsed == pytest.approx(at)
        assert all(work.completed[n] == 0 for n in range(size) if duration[n] > at)  # cancelled midway
    else:
        assert run.outcome == "raised" and isinstance(run.error, ExceptionGroup)
        assert [str(e) for e in run.error.exceptions] == [f"item {n!r} failed" for n in range(size)]
        assert run.elapsed == pytest.approx(max(duration))


def test_first_success_needs_an_attempt() -> None:
    run: VirtualRun[Any] = run_virtual(first_success)
    assert isinstance(run.error, ValueError)
