"""Properties of the chapter 3 reference (solutions/batching.py), on random arrivals and handlers.

Arrival times are distinct multiples of 0.1 s and max_wait is an odd multiple of 0.05 s, so
no entry ever arrives at exactly a batch's deadline (the one instant the rule leaves open).
"""

from __future__ import annotations

import ast
import asyncio
import inspect
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import coursekit.chapters.batching.checks as checks
from coursekit import STOP, run_virtual
from coursekit.analysis import idle_slots, peak_in_flight
from coursekit.chapters.batching.analysis import item_waits
from coursekit.chapters.batching.checks import (
    check_batcher_close,
    check_batcher_failures,
    check_batcher_flushes,
    check_batcher_results,
    check_batcher_slow_handler,
    check_collect_batch,
    check_process_in_chunks,
    expected_batches,
    greedy_makespan,
)
from coursekit.chapters.batching.given import BatchHandler, Entry, traced_submit
from coursekit.checks import describe_call
from coursekit.workload import BatchWorkload, ItemFailed, Workload, find_item_failure
from solutions.batching import MicroBatcher, collect_batch, deliver, process_in_chunks
from tools.chapter_source import chapters

BATCHER_CHECKS = [
    check_batcher_flushes,
    check_batcher_results,
    check_batcher_failures,
    check_batcher_close,
    check_batcher_slow_handler,
]
max_waits = st.sampled_from([0.15, 0.25, 0.35, 1.05])
arrival_times = st.lists(st.integers(0, 60), unique=True, max_size=25).map(lambda ticks: sorted(t / 10 for t in ticks))


@settings(max_examples=40, deadline=None)
@given(times=arrival_times, batch_size=st.integers(1, 6), max_wait=max_waits, stop=st.booleans())
def test_collect_batch_closes_when_full_or_max_wait_after_the_first_entry(
    times: list[float], batch_size: int, max_wait: float, stop: bool
) -> None:
    arrivals = [(time, number) for number, time in enumerate(times)]
    stop_at = (times[-1] if times else 0.0) + 0.02 if stop else None
    got: list[tuple[float, list[Any]]] = []

    async def scenario() -> None:
        inbox: asyncio.Queue[Any] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        for time, item in arrivals:
            loop.call_at(time, inbox.put_nowait, item)
        if stop_at is not None:
            loop.call_at(stop_at, inbox.put_nowait, STOP)
        taken = 0
        while (stop_at is not None and not (got and got[-1][1][-1] is STOP)) or (
            stop_at is None and taken < len(times)
        ):
            batch = await collect_batch(inbox, batch_size, max_wait)
            got.append((loop.time(), batch))
            taken += len(batch)

    run = run_virtual(scenario)
    assert run.outcome == "returned", run.diagnosis
    arrived = dict((item, time) for time, item in arrivals)
    assert [entry for _, batch in got for entry in batch if entry is not STOP] == [item for _, item in arrivals]
    for returned_at, batch in got:
        assert 1 <= len(batch) <= batch_size or batch[-1] is STOP
        if batch[0] is STOP:
            continue
        first = arrived[batch[0]]  # distinct times: a batch's first entry is taken when it arrives
        assert returned_at <= first + max_wait + 1e-9
        if returned_at < first + max_wait - 1e-9:  # early: it was full, or it ended with STOP
            assert len(batch) == batch_size or batch[-1] is STOP
    want = expected_batches(arrivals, batch_size, max_wait, stop_at)
    assert [(round(t, 9), list(b)) for t, b in got] == [(round(b.time, 9), list(b.entries)) for b in want]


@settings(max_examples=30, deadline=None)
@given(size=st.integers(1, 8), data=st.data(), short=st.booleans(), duration=st.sampled_from([0.0, 0.5, 2.0]))
def test_deliver_resolves_every_future_of_its_batch_and_never_raises(
    size: int, data: st.DataObject, short: bool, duration: float
) -> None:
    items = list(range(size))
    failing = data.draw(st.sets(st.sampled_from(items)))
    gave_up = data.draw(st.sets(st.sampled_from(items)))
    work = BatchWorkload(duration, failing)
    futures: dict[int, asyncio.Future[Any]] = {}

    async def handler(batch: list[Any]) -> list[Any]:
        results = await work(batch)
        return results[:-1] if short else results

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        for item in items:
            futures[item] = loop.create_future()
            if item in gave_up:
                futures[item].cancel()
        await deliver([(item, futures[item]) for item in items], handler)

    run = run_virtual(scenario)
    assert run.outcome == "returned", run.diagnosis
    assert work.batches == [items]
    for item, future in futures.items():
        assert future.done()
        if item in gave_up:
            assert future.cancelled()
        elif failing:
            assert isinstance(future.exception(), ItemFailed)
        elif short:
            assert isinstance(future.exception(), ValueError)
        else:
            assert future.result() == Workload.expected(item)


@settings(max_examples=30, deadline=None)
@given(
    times=arrival_times,
    batch_size=st.integers(1, 5),
    max_wait=max_waits,
    duration=st.sampled_from([0.0, 0.3, 2.0]),
    data=st.data(),
)
def test_micro_batcher_gives_each_caller_its_own_outcome_and_flushes_on_close(
    times: list[float], batch_size: int, max_wait: float, duration: float, data: st.DataObject
) -> None:
    items = list(range(len(times)))
    failing = data.draw(st.sets(st.sampled_from(items))) if items else set()
    work = BatchWorkload(duration, failing)
    outcomes: dict[int, Any] = {}

    async def scenario() -> None:
        async with MicroBatcher(work, batch_size=batch_size, max_wait=max_wait) as batcher:

            async def caller(at: float, item: int) -> None:
                await asyncio.sleep(at)
                try:
                    outcomes[item] = await traced_submit(batcher, item)
                except ItemFailed as error:
                    outcomes[item] = error

            async with asyncio.TaskGroup() as group:
                for item, at in zip(items, times, strict=True):
                    group.create_task(caller(at, item))

    run = run_virtual(scenario)
    assert run.outcome == "returned", run.diagnosis
    assert not run.leftover
    assert sorted(item for batch in work.batches for item in batch) == items  # each item handled once
    assert all(1 <= len(batch) <= batch_size for batch in work.batches)
    failed_batches = {item for batch in work.batches if failing & set(batch) for item in batch}
    for item in items:
        if item in failed_batches:
            assert isinstance(outcomes[item], ItemFailed)
        else:
            assert outcomes[item] == Workload.expected(item)
    for submitted, flushed, done in item_waits(run.events).values():
        assert flushed is not None and done is not None
        assert flushed - submitted <= max_wait + 1e-9  # nobody waits longer than max_wait for a batch


@settings(max_examples=30, deadline=None)
@given(
    times=arrival_times,
    batch_size=st.integers(1, 5),
    max_wait=max_waits,
    duration=st.sampled_from([0.0, 0.3, 2.0]),
    abort_at=st.integers(0, 60).map(lambda tick: tick / 10 + 0.05),
)
def test_micro_batcher_abort_leaves_no_caller_waiting_and_nothing_running(
    times: list[float], batch_size: int, max_wait: float, duration: float, abort_at: float
) -> None:
    callers: list[asyncio.Task[Any]] = []
    aborted_at: list[float] = []

    async def scenario() -> None:
        batcher = MicroBatcher(BatchWorkload(duration), batch_size=batch_size, max_wait=max_wait)

        async def caller(at: float, item: int) -> Any:
            await asyncio.sleep(at)
            return await batcher.submit(item)

        callers.extend(asyncio.create_task(caller(at, item)) for item, at in enumerate(times))
        await asyncio.sleep(abort_at)
        await batcher.abort()
        aborted_at.append(asyncio.get_running_loop().time())
        if callers:
            await asyncio.wait(callers)

    run = run_virtual(scenario)
    assert run.outcome == "returned", run.diagnosis
    assert len(aborted_at) == 1 and abs(aborted_at[0] - abort_at) < 1e-9  # abort() does not wait for the handler
    assert not run.leftover
    for task, at in zip(callers, times, strict=True):
        if at > abort_at:
            assert isinstance(task.exception(), RuntimeError)  # submit() after abort()
        elif not task.cancelled():
            assert task.exception() is None  # delivered before abort()


@settings(max_examples=30, deadline=None)
@given(size=st.integers(0, 20), chunk_size=st.integers(1, 6), concurrency=st.integers(1, 5), data=st.data())
def test_process_in_chunks_keeps_order_and_limit_and_starts_chunks_as_soon_as_possible(
    size: int, chunk_size: int, concurrency: int, data: st.DataObject
) -> None:
    items = [f"item-{n}" for n in range(size)]
    chunks = [items[i : i + chunk_size] for i in range(0, size, chunk_size)]
    duration_of = {tuple(chunk): data.draw(st.sampled_from([0.5, 1.0, 3.0])) for chunk in chunks}
    work = BatchWorkload(lambda chunk: duration_of[tuple(chunk)])
    run = run_virtual(lambda: process_in_chunks(items, work, chunk_size=chunk_size, concurrency=concurrency))
    assert run.outcome == "returned", run.diagnosis
    assert run.value == [Workload.expected(item) for item in items]
    assert sorted(work.batches) == sorted(chunks)
    assert peak_in_flight(run.events) <= concurrency
    assert abs(run.elapsed - greedy_makespan([duration_of[tuple(c)] for c in chunks], concurrency)) < 1e-9
    assert not run.leftover


@settings(max_examples=20, deadline=None)
@given(size=st.integers(1, 20), chunk_size=st.integers(1, 6), concurrency=st.integers(1, 5), data=st.data())
def test_process_in_chunks_raises_a_chunk_failure_and_leaves_nothing_running(
    size: int, chunk_size: int, concurrency: int, data: st.DataObject
) -> None:
    items = list(range(size))
    failing = data.draw(st.sampled_from(items))
    work = BatchWorkload(1.0, {failing})
    run = run_virtual(lambda: process_in_chunks(items, work, chunk_size=chunk_size, concurrency=concurrency))
    assert run.outcome == "raised" and find_item_failure(run.error) is not None
    assert not run.leftover
    failed_at = next(e.time or 0.0 for e in run.of_kind("work.end") if e["outcome"] == "failed")
    assert all((e.time or 0.0) <= failed_at for e in run.of_kind("work.start"))


class TimerBatcher:
    """Another correct design the statement allows: no inbox and no loop task; the caller that
    opens a batch sets a timer, the caller that fills it flushes, each delivery is a task."""

    def __init__(self, handler: BatchHandler, *, batch_size: int, max_wait: float) -> None:
        self.handler, self.batch_size, self.max_wait = handler, batch_size, max_wait
        self._open: list[Entry] = []
        self._timer: asyncio.TimerHandle | None = None
        self._deliveries: set[asyncio.Task[None]] = set()
        self._closed = False

    async def submit(self, item: Any) -> Any:
        if self._closed:
            raise RuntimeError("submit() after close()")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._open.append((item, future))
        if len(self._open) == 1:
            self._timer = loop.call_later(self.max_wait, self._flush)
        if len(self._open) == self.batch_size:
            self._flush()
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        batch, self._open, self._timer = self._open, [], None
        if batch:
            delivery = asyncio.create_task(deliver(batch, self.handler))
            self._deliveries.add(delivery)
            delivery.add_done_callback(self._deliveries.discard)

    async def close(self) -> None:
        self._closed = True
        self._flush()
        while self._deliveries:
            await asyncio.wait(set(self._deliveries))

    async def abort(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        for _, future in self._open:
            future.cancel()
        self._open = []
        for delivery in self._deliveries:
            delivery.cancel()
        while self._deliveries:
            await asyncio.wait(set(self._deliveries))


@pytest.mark.parametrize("check", BATCHER_CHECKS, ids=lambda check: check.__name__)
@pytest.mark.parametrize("design", [MicroBatcher, TimerBatcher], ids=lambda design: design.__name__)
def test_every_correct_design_passes_the_batcher_checks(check: Callable[..., None], design: type) -> None:
    check(design)


def graded_check_calls() -> list[str]:
    """Every check call of chapter 3's graded cells, hidden ones included, as written in the source."""
    (chapter,) = chapters(["ch03"])
    tree = ast.parse(chapter.source.read_text(encoding="utf-8"))
    return [
        ast.unparse(node.value)
        for node in tree.body
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and ast.unparse(node.value.func).startswith("check_")
        and ast.unparse(node.value.args[0]) in {"MicroBatcher", "collect_batch", "deliver", "process_in_chunks"}
    ]


@pytest.mark.parametrize("call", graded_check_calls())
def test_every_scenario_line_is_a_call_a_learner_can_paste_and_rerun(call: str) -> None:
    """The ``scenario:`` line of a failure (the check's call, every argument shown) evaluates back
    to the same arguments as the graded cell's call."""
    names = {"MicroBatcher": MicroBatcher, "collect_batch": collect_batch, "deliver": deliver}
    names |= {"process_in_chunks": process_in_chunks, "STOP": STOP}
    node = ast.parse(call, mode="eval").body
    assert isinstance(node, ast.Call)
    check = getattr(checks, ast.unparse(node.func))
    args = [eval(ast.unparse(arg), dict(names)) for arg in node.args]
    kwargs = {str(keyword.arg): eval(ast.unparse(keyword.value), dict(names)) for keyword in node.keywords}
    shown = describe_call(check.__name__, inspect.signature(check), args, kwargs)
    again = ast.parse(shown, mode="eval").body
    assert isinstance(again, ast.Call)
    bound = inspect.signature(check).bind(*args, **kwargs)
    bound.apply_defaults()
    rerun = {keyword.arg: eval(ast.unparse(keyword.value), dict(names)) for keyword in again.keywords}
    assert rerun == {key: value for key, value in list(bound.arguments.items())[1:]}


async def last_first_chunks(items: list[Any], handler: BatchHandler, *, chunk_size: int, concurrency: int) -> list[Any]:
    """A correct design with another schedule: chunks taken from the end."""
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    todo = list(enumerate(chunks))
    results: list[Any] = [[] for _ in chunks]

    async def worker() -> None:
        while todo:
            index, chunk = todo.pop()
            results[index] = await handler(chunk)

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, len(chunks))):
            group.create_task(worker())
    return [result for chunk_results in results for result in chunk_results]


@settings(max_examples=30, deadline=None)
@given(size=st.integers(0, 20), chunk_size=st.integers(1, 6), concurrency=st.integers(1, 5), data=st.data())
def test_no_idle_slot_accepts_any_chunk_order_and_rejects_waves(
    size: int, chunk_size: int, concurrency: int, data: st.DataObject
) -> None:
    """The "a new chunk starts as soon as a call finishes" property holds for the reference and a
    last-first runner alike, although their total times differ."""
    items = list(range(size))
    chunks = [items[i : i + chunk_size] for i in range(0, size, chunk_size)]
    duration_of = {tuple(chunk): data.draw(st.sampled_from([0.5, 1.0, 3.0])) for chunk in chunks}
    for design in (process_in_chunks, last_first_chunks):
        work = BatchWorkload(lambda chunk: duration_of[tuple(chunk)])
        run = run_virtual(design(items, work, chunk_size=chunk_size, concurrency=concurrency))
        assert run.value == [Workload.expected(item) for item in items]
        assert idle_slots(run.events, len(chunks), concurrency) is None


@settings(max_examples=15, deadline=None)
@given(
    times=arrival_times.filter(bool),
    offset=st.sampled_from([0.0, 2.35, 7.0]),
    batch_size=st.integers(1, 5),
    max_wait=max_waits,
    duration=st.sampled_from([0.0, 0.3, 2.0]),
    end=st.integers(0, 60).map(lambda tick: tick / 10 + 0.025),
    repeat=st.booleans(),
)
def test_the_batcher_checks_accept_the_reference_on_random_scenarios(
    times: list[float], offset: float, batch_size: int, max_wait: float, duration: float, end: float, repeat: bool
) -> None:
    """No false rejection: the reference passes the checks on arrivals that start anywhere, with
    repeated items, and close()/abort() at any instant that is not an arrival or a deadline."""
    arrivals = [(offset + time, number % 3 if repeat else number) for number, time in enumerate(times)]
    check_collect_batch(collect_batch, arrivals=arrivals, batch_size=batch_size, max_wait=max_wait)
    check_batcher_flushes(MicroBatcher, arrivals=arrivals, batch_size=batch_size, max_wait=max_wait)
    check_batcher_results(MicroBatcher, arrivals=arrivals, batch_size=batch_size, max_wait=max_wait, duration=duration)
    check_batcher_close(
        MicroBatcher,
        arrivals=arrivals,
        batch_size=batch_size,
        max_wait=max_wait,
        duration=duration,
        close_at=offset + end,
        abort_at=offset + end,
    )
    distinct = [(at, number) for number, (at, _) in enumerate(arrivals)]  # the failures check tells callers by item
    check_batcher_failures(
        MicroBatcher,
        arrivals=distinct,
        batch_size=batch_size,
        max_wait=max_wait,
        duration=duration,
        failing={len(distinct) - 1},
    )
    check_batcher_slow_handler(
        MicroBatcher, arrivals=arrivals, batch_size=batch_size, max_wait=max_wait, duration=duration
    )


@settings(max_examples=20, deadline=None)
@given(
    items=st.lists(st.integers(0, 5), max_size=15),
    chunk_size=st.integers(1, 6),
    concurrency=st.integers(1, 5),
    slow=st.sets(st.integers(0, 5)),
    failing=st.one_of(st.none(), st.integers(0, 5)),
)
def test_the_chunk_check_accepts_the_reference_and_a_last_first_runner_on_random_scenarios(
    items: list[int], chunk_size: int, concurrency: int, slow: set[int], failing: int | None
) -> None:
    """No false rejection of either schedule, with repeated items, any slow chunks, and a failure anywhere."""
    failing = failing if failing in items else None
    for design in (process_in_chunks, last_first_chunks):
        check_process_in_chunks(
            design, items=items, chunk_size=chunk_size, concurrency=concurrency, slow=slow, failing=failing
        )
