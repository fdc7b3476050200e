"""Properties of the chapter 1 reference (solutions/producer_consumer.py), on random pipelines."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit import STOP, run_virtual
from coursekit.chapters.producer_consumer.analysis import queue_depth
from coursekit.chapters.producer_consumer.checks import check_consumer, check_run_pipeline, check_serve
from coursekit.workload import Workload
from solutions.producer_consumer import consumer, run_pipeline, serve

durations = st.sampled_from([0.0, 0.1, 0.25, 0.5, 1.0, 2.0])


@st.composite
def pipelines(draw: st.DrawFn) -> dict[str, Any]:
    """Producers with distinct items, consumer count, queue size, per-item durations and failures."""
    sizes = draw(st.lists(st.integers(0, 12), min_size=1, max_size=4))
    sources = [[(p, i) for i in range(size)] for p, size in enumerate(sizes)]
    items = [item for source in sources for item in source]
    duration_of = {item: draw(durations) for item in items}
    failing = draw(st.sets(st.sampled_from(items))) if items else set()
    return {
        "sources": sources,
        "items": items,
        "duration_of": duration_of,
        "failing": failing,
        "consumers": draw(st.integers(1, 6)),
        "maxsize": draw(st.integers(1, 8)),
    }


@settings(max_examples=60, deadline=None)
@given(pipelines())
def test_pipeline_handles_every_item_exactly_once_and_every_consumer_exits(case: dict[str, Any]) -> None:
    work = Workload(case["duration_of"].__getitem__, case["failing"])
    run = run_virtual(lambda: run_pipeline(case["sources"], work, consumers=case["consumers"], maxsize=case["maxsize"]))
    assert run.outcome == "returned", run.diagnosis
    results, failures = run.unwrap()
    assert set(results) | set(failures) == set(case["items"])
    assert not set(results) & set(failures)
    assert set(failures) == case["failing"]
    assert all(work.calls[item] == 1 for item in case["items"]), work.calls
    assert not run.leftover, run.leftover
    consumer_names = {event.task for event in run.of_kind("queue.get")}
    exits = [e for e in run.of_kind("queue.get") if e["item"] is STOP]
    assert len(exits) == case["consumers"] and {e.task for e in exits} == consumer_names
    assert max(queue_depth(run.events)[1]) <= case["maxsize"]


@settings(max_examples=40, deadline=None)
@given(pipelines(), st.floats(0.0, 10.0, allow_nan=False))
def test_cancelling_the_pipeline_midway_leaves_no_task_running(case: dict[str, Any], cancel_at: float) -> None:
    outcome: dict[str, bool] = {}

    async def scenario() -> None:
        work = Workload(case["duration_of"].__getitem__, case["failing"])
        pipeline = asyncio.create_task(
            run_pipeline(case["sources"], work, consumers=case["consumers"], maxsize=case["maxsize"])
        )
        await asyncio.sleep(cancel_at)
        outcome["finished_first"] = pipeline.done()
        pipeline.cancel()
        await asyncio.wait({pipeline})
        outcome["cancelled"] = pipeline.cancelled()

    run = run_virtual(scenario)
    assert run.outcome == "returned", run.diagnosis
    assert not run.leftover, run.leftover
    assert outcome["cancelled"] != outcome["finished_first"]  # cancelled, unless it had already finished


@settings(max_examples=40, deadline=None)
@given(
    every=st.sampled_from([0.1, 0.3, 0.5, 1.0]),
    stop_at=st.floats(0.0, 8.0, allow_nan=False),
    consumers=st.integers(1, 4),
    maxsize=st.integers(1, 5),
    duration=durations,
)
def test_serve_takes_nothing_after_stop_and_handles_everything_it_took(
    every: float, stop_at: float, consumers: int, maxsize: int, duration: float
) -> None:
    work = Workload(duration)

    async def source():
        for item in range(1000):
            await asyncio.sleep(every)
            yield item

    async def scenario() -> Any:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_at(stop_at, stop.set)
        return await serve(source(), work, consumers=consumers, maxsize=maxsize, stop=stop)

    run = run_virtual(scenario)
    assert run.outcome == "returned", run.diagnosis
    results, _ = run.unwrap()
    taken = {event["item"] for event in run.of_kind("queue.put") if event["item"] is not STOP}
    assert set(results) == taken
    # Item i becomes available at (i + 1) * every; none after stop may have been taken.
    assert all((item + 1) * every <= stop_at + 1e-9 for item in taken), (stop_at, sorted(taken))
    assert not run.leftover


@settings(max_examples=30, deadline=None)
@given(items=st.lists(st.integers(), unique=True, max_size=10), data=st.data())
def test_consumer_marks_every_item_done_even_when_handling_fails(items: list[int], data: st.DataObject) -> None:
    failing = data.draw(st.sets(st.sampled_from(items))) if items else set()
    work = Workload(0.5, failing)
    results: dict[Any, Any] = {}
    failures: dict[Any, Any] = {}

    async def scenario() -> None:
        queue: asyncio.Queue[Any] = asyncio.Queue()
        for item in [*items, STOP]:
            queue.put_nowait(item)
        await consumer(queue, work, results, failures)
        await asyncio.wait_for(queue.join(), timeout=1)  # join() returns: every item marked done

    run = run_virtual(scenario)
    assert run.outcome == "returned", run.diagnosis
    assert set(failures) == failing and set(results) == set(items) - failing


# The checks accept the reference on drawn scenarios: the hidden scenarios are a few fixed points of
# these spaces (repeated items, the clock not at 0, one consumer or more consumers than items, a
# queue of 1, failures anywhere), so a check that demands one schedule, or trips on an input shape,
# shows up here. derandomize=True: the same examples on every run, so the suite stays deterministic.

small_items = st.lists(st.sampled_from("abcdef"), max_size=6)
starts = st.sampled_from([0.0, 0.25, 7.5, 100.125])


@settings(max_examples=25, deadline=None, derandomize=True)
@given(items=small_items, data=st.data())
def test_check_consumer_accepts_the_reference_on_drawn_items(items: list[str], data: st.DataObject) -> None:
    failing = data.draw(st.sets(st.sampled_from(items))) if items else set()
    check_consumer(consumer, items=items, failing=failing, duration=data.draw(durations))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    sources=st.lists(small_items, max_size=3),
    consumers=st.integers(1, 4),
    maxsize=st.integers(1, 4),
    start=starts,
    data=st.data(),
)
def test_check_run_pipeline_accepts_the_reference_on_drawn_pipelines(
    sources: list[list[str]], consumers: int, maxsize: int, start: float, data: st.DataObject
) -> None:
    items = sorted({item for source in sources for item in source})
    failing = data.draw(st.sets(st.sampled_from(items))) if items else set()
    check_run_pipeline(
        run_pipeline, sources=sources, consumers=consumers, maxsize=maxsize, failing=failing, start=start
    )


@settings(max_examples=20, deadline=None, derandomize=True)
@given(
    items=st.integers(0, 12),
    every=st.sampled_from([0.1, 0.5, 2.0]),
    stop_at=st.one_of(st.none(), st.sampled_from([0.05, 1.3, 4.0])),
    consumers=st.integers(1, 3),
    maxsize=st.integers(1, 3),
    start=starts,
)
def test_check_serve_accepts_the_reference_on_drawn_streams(
    items: int, every: float, stop_at: float | None, consumers: int, maxsize: int, start: float
) -> None:
    check_serve(serve, items=items, every=every, stop_at=stop_at, consumers=consumers, maxsize=maxsize, start=start)
