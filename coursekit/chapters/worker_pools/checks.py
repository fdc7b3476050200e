"""Chapter 2 checks: ``limited_map``, the ``WorkerPool`` class, and ``TaskManager.run_job``.

Each ``check_*`` takes the learner's function or class (never the reference), runs one
scenario on a virtual clock against a :class:`~coursekit.workload.Workload`, and walks a
chain: defined -> runs -> terminates -> correct -> respects limits. ``WorkerPool`` has one
check per behaviour (results, errors, shutdown, backpressure, cancellation), so each can
earn its own points. A failure names the scenario with its arguments: calling that check
with them in a cell of your own runs the same scenario again.

Each check is a short driver: a scenario function runs the learner's code and returns what it
observed, then named property functions, in the order a learner reads them, pass or fail the chain.

The semantics checked (the chapter's statements say the same):

- ``limited_map(func, items, limit)``: every item once, results in input order, at most
  ``limit`` calls in flight and a call starts as soon as a slot is free; the first failure
  cancels the rest and surfaces in an ``ExceptionGroup``; ``limit < 1`` is a ValueError.
- ``WorkerPool(handle, workers=N, maxsize=M)``: see :func:`check_pool_results` and the
  checks after it. Any schedule the statement allows passes: only what a user of the pool
  can see is checked (futures, handler calls, task names, when ``async with`` returns).
- ``TaskManager`` (a :class:`~coursekit.chapters.worker_pools.given.BackgroundJobs`): ``run_job`` moves each job
  along the life cycle at the instants its handler call starts and ends.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import inspect
import itertools
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from coursekit import checks as core
from coursekit.analysis import idle_slots, peak_in_flight
from coursekit.chapters.producer_consumer.checks import (
    EARLIER,
    EveryKindOfFailure,
    ItemError,
    an_earlier_call,
    find_failure,
    is_item_failure,
)
from coursekit.chapters.worker_pools.analysis import jobs_waiting
from coursekit.chapters.worker_pools.given import BackgroundJobs, InvalidTransition, Job, JobStatus
from coursekit.checks import Chain, CheckFailed, describe_error, describe_values, leaf_exceptions, learner_facing
from coursekit.events import Kind, emit
from coursekit.scenario import (
    Outcome,
    cancellation_sweep,
    cancelled_at,
    ends_cancelled_at_each_wait,
    leaves_no_task_at_any_wait,
    sleep_until,
    sweep_instants,
    timed_call,
)
from coursekit.virtual_time import VirtualRun, run_virtual
from coursekit.workload import Workload

# ------------------------------------------------------ the learner's subjects

LimitedMap = Callable[..., Awaitable[object]]
"""``async def limited_map(func, items, limit) -> list``."""


class Pool(Protocol):
    """A ``WorkerPool(handle, workers=N, maxsize=M)`` as the statement defines it."""

    async def __aenter__(self) -> Pool: ...

    async def __aexit__(self, exc_type: type[BaseException] | None, *exc_info: Any) -> bool | None: ...

    async def submit(self, item: Hashable) -> asyncio.Future[Any]: ...

    async def shutdown(self) -> None: ...


PoolClass = Callable[..., Pool]
"""The learner's ``WorkerPool`` class."""

# ``TaskManager`` is a subclass of the given ``BackgroundJobs``: its checks take ``type[BackgroundJobs]``.

DEADLINE = 300.0  # simulated seconds; every scenario below needs far less
CLOCK_RESOLUTION = 1e-6  # the virtual clock's step: looptime rounds times to it
DURATIONS = (1.0, 3.0, 1.0, 2.0, 1.0, 1.0, 4.0, 1.0)  # item durations vary: batches would wait


def varied(items: Sequence[Hashable], durations: Sequence[float]) -> Callable[[Hashable], float]:
    """Duration of each item: ``durations`` repeated along ``items``."""
    table = dict(zip(items, itertools.cycle(durations)))
    return table.__getitem__


def greedy_finish(durations: Sequence[float], limit: int) -> float:
    """When the last call ends if each starts, in order, as soon as one of ``limit`` slots is free."""
    slots = [0.0] * min(limit, max(len(durations), 1))
    for duration in durations:
        heapq.heappush(slots, heapq.heappop(slots) + duration)
    return max(slots, default=0.0)


# -------------------------------------------------------------- limited_map


@learner_facing
def check_limited_map(
    limited_map: LimitedMap,
    *,
    items: Sequence[Hashable] = tuple(range(12)),
    limit: int = 4,
    durations: Sequence[float] = DURATIONS,
    start: float = 0.0,
) -> None:
    """All items succeed (an item may repeat: each occurrence is one call); results in input order;
    at most ``limit`` in flight, and no idle slot. The call starts at loop time ``start``."""
    items = list(items)
    chain = Chain("limited_map")
    chain.require_async_function(limited_map, "limited_map")
    work = Workload(varied(items, durations))
    an_earlier_call(lambda: limited_map(Workload(0.5), [EARLIER], 1))
    run = run_limited_map(limited_map, work, items, limit, start)
    runs_without_raising(
        chain,
        run,
        "limited_map",
        raised_hint="with no items there is nothing to run: return [] (asyncio.wait() refuses an empty set)"
        if not items
        else f"limit={limit} is valid (one slot: one call at a time): raise ValueError only for `limit < 1`"
        if limit == 1 and isinstance(run.error, ValueError)
        else "call limited_map with the scenario's items and limit in a cell of your own to see the traceback",
    )
    values = returns_one_result_per_item(chain, run, work, items)
    results_follow_the_items(chain, values, work, items)
    func_is_called_once_per_item(chain, work, items)
    chain.require_no_leftover_tasks(run, "limited_map")
    never_more_in_flight_than_the_limit(chain, run, limit, len(items))
    no_slot_idles_while_calls_wait(
        chain,
        run,
        [work.duration(item) for item in items],
        limit,
        "a call starts as soon as a slot is free (no batches)",
        hint="batches wait for their slowest member (document 003's second version): instead let "
        "every item wait for a slot of its own, e.g. one task per item under a Semaphore",
    )
    a_limit_of_zero_is_a_value_error(chain, limited_map, work)


def run_limited_map(
    limited_map: LimitedMap, work: Workload, items: list[Hashable], limit: int, start: float
) -> VirtualRun[object]:
    """``await limited_map(work, items, limit)`` at loop time ``start``, on the virtual clock."""

    async def scenario() -> object:
        await sleep_until(start)
        return await limited_map(work, items, limit)

    return run_virtual(scenario, deadline=start + DEADLINE)


def returns_one_result_per_item(
    chain: Chain, run: VirtualRun[object], work: Workload, items: list[Hashable]
) -> list[Any]:
    """limited_map returned a list with one result per item (in any order): the list."""
    chain.require(
        isinstance(run.value, list),
        "limited_map returns a list",
        observed=f"it returned {run.value!r:.120}",
        hint="return a list of the results",
    )
    values: list[Any] = run.value if isinstance(run.value, list) else []
    expected = [work.expected(item) for item in items]
    chain.require(
        Workload.expected(EARLIER) not in values or EARLIER in items,
        "limited_map returns the results of its own items only",
        observed=lambda: (
            f"it returned {describe_values(values)}: {Workload.expected(EARLIER)!r} is the result of an "
            f"earlier call's item, {EARLIER!r}"
        ),
        hint=FRESH_MAP,
    )
    chain.require(
        sorted(map(repr, values)) == sorted(map(repr, expected)),
        "limited_map returns one result per item",
        observed=lambda: f"returned {len(values)} result(s) for {len(items)} items: {describe_values(values)}",
        hint="await func(item) once for every item and collect what each call returns",
    )
    return values


def results_follow_the_items(chain: Chain, values: list[Any], work: Workload, items: list[Hashable]) -> None:
    expected = [work.expected(item) for item in items]
    first_wrong = next((i for i, (got, want) in enumerate(zip(values, expected, strict=False)) if got != want), 0)
    chain.require(
        values == expected,
        "results are in the order of the items",
        observed=lambda: (
            f"result {first_wrong} (for item {items[first_wrong]!r}) is {values[first_wrong]!r}, "
            f"expected {expected[first_wrong]!r}"
        ),
        hint="results must follow the input order, not the order calls finish in: keep the tasks "
        "in a list (or write into results[index]), then read them in order",
    )


def miscounted(work: Workload, items: Sequence[Hashable]) -> tuple[Counter[Hashable], list[Hashable]]:
    """How often each item was given, and the items whose handler was called a different number of times."""
    wanted = Counter(items)
    return wanted, sorted((item for item in work.calls | wanted if work.calls[item] != wanted[item]), key=repr)


def describe_counts(work: Workload, wanted: Counter[Hashable], repeated: list[Hashable], call: str, unit: str) -> str:
    """``call(item) was called N times for M units``, for the first three miscounted items."""
    return "; ".join(
        f"{call}({item!r}) was called {work.calls[item]} time{'s' if work.calls[item] != 1 else ''} "
        f"for {wanted[item]} {unit}{'s' if wanted[item] != 1 else ''}"
        for item in repeated[:3]
    )


def func_is_called_once_per_item(chain: Chain, work: Workload, items: list[Hashable]) -> None:
    wanted, repeated = miscounted(work, items)
    chain.require(
        not repeated,
        "func is called once per item (an item that repeats, once per occurrence)",
        observed=lambda: describe_counts(work, wanted, repeated, "func", "occurrence"),
        hint="call func(item) exactly once for every element of items, repeats included: "
        "do not skip or cache items seen before, and do not retry"
        if any(work.calls[item] < wanted[item] for item in repeated)
        else "call func(item) exactly once per element of items: do not retry, and start each call once",
    )


def a_limit_of_zero_is_a_value_error(chain: Chain, limited_map: LimitedMap, work: Workload) -> None:
    invalid = run_virtual(lambda: limited_map(work, [1, 2], 0), deadline=10.0)
    chain.require(
        isinstance(invalid.error, ValueError),
        "limit=0 is a ValueError",
        observed=f"limited_map(func, [1, 2], 0) {describe_run(invalid)}",
        hint="with no slot, nothing could ever run: check `if limit < 1: raise ValueError(...)` first",
    )
    one_slot = run_virtual(lambda: limited_map(Workload(1.0), [1, 2], 1), deadline=10.0)
    chain.require(
        one_slot.value == [Workload.expected(1), Workload.expected(2)],
        "limit=1, one slot, is valid",
        observed=f"limited_map(func, [1, 2], 1) {describe_run(one_slot)}",
        hint="limit=1 is valid (one slot: one call at a time): raise ValueError only for `limit < 1`",
    )


@learner_facing
def check_limited_map_failure(
    limited_map: LimitedMap,
    *,
    items: Sequence[Hashable] = tuple(range(10)),
    limit: int = 3,
    failing: Iterable[Hashable] = (4,),
    duration: float = 1.0,
    start: float = 0.0,
    every_kind: bool = False,
) -> None:
    """Some item fails: limited_map raises an ExceptionGroup and cancels the rest at once. The call
    starts at loop time ``start``. With ``every_kind``, the failing items raise Exceptions of every kind
    (ItemFailed, ValueError, KeyError, OSError, TimeoutError, RuntimeError, ZeroDivisionError)."""
    items, failing = list(items), sorted(failing, key=repr)
    chain = Chain("limited_map")
    chain.require_async_function(limited_map, "limited_map")
    work = (EveryKindOfFailure if every_kind else Workload)(duration, failing)
    run = run_limited_map(limited_map, work, items, limit, start)
    raises_when_an_item_fails(chain, run, work)
    the_failure_surfaces_as_an_exception_group(chain, run)
    chain.require_no_leftover_tasks(run, "limited_map")
    the_first_failure_cancels_every_other_call(chain, run)
    never_more_in_flight_than_the_limit(chain, run, limit, len(items), must_reach=False)


def raises_when_an_item_fails(chain: Chain, run: VirtualRun[object], work: Workload) -> None:
    if run.outcome != "raised" or isinstance(run.error, NotImplementedError):
        chain.require_finished(run, "limited_map")
    chain.require(
        run.outcome == "raised",
        "limited_map raises when an item fails",
        observed=f"func({sorted(work.failing, key=repr)[0]!r}) raised an exception, and limited_map "
        f"returned {run.value!r:.80}",
        hint="do not catch the error (nor use return_exceptions=True): an asyncio.TaskGroup re-raises it for you",
    )


def the_failure_surfaces_as_an_exception_group(chain: Chain, run: VirtualRun[object]) -> None:
    group = run.error if isinstance(run.error, BaseExceptionGroup) else None
    chain.require(
        group is not None and any(is_item_failure(e) for e in leaf_exceptions(group)),
        "the failure surfaces as an ExceptionGroup holding the call's exception",
        observed=f"limited_map raised {describe_error(run.error)}",
        hint="run the calls in an asyncio.TaskGroup: it cancels the others and raises an "
        "ExceptionGroup (asyncio.gather raises the bare error and leaves the others running)",
    )


def the_first_failure_cancels_every_other_call(chain: Chain, run: VirtualRun[object]) -> None:
    failed_at = min(e.time or 0.0 for e in run.of_kind(Kind.WORK_END) if e["outcome"] == "failed")
    late = [e for e in run.of_kind(Kind.WORK_START) if (e.time or 0.0) > failed_at]
    unfinished = [e for e in run.of_kind(Kind.WORK_END) if e["outcome"] == "cancelled" and e.time != failed_at]
    chain.require(
        not late and not unfinished and run.elapsed == failed_at,
        "the first failure cancels every other call at once",
        observed=lambda: (
            f"the first failure was at t={failed_at:g} s; "
            + (f"item {late[0]['item']!r} started at t={late[0].time:g} s; " if late else "")
            + f"limited_map returned at t={run.elapsed:g} s"
        ),
        hint="a TaskGroup cancels its other tasks when one fails; waiting items must not start",
    )


# ------------------------------------------------------ sweeps and repeated use


@contextmanager
def holding_quietly() -> Iterator[None]:
    """Within the block, the ✓ lines of properties that hold are dropped: a sweep runs the same properties
    at many instants and shows them once. (A core helper would be better: see the chapter 2 report.)"""
    core._held.append([])
    try:
        yield
    finally:
        core._held.pop()


SWEEP_ITEMS = tuple(range(1, 8))
SWEEP_DURATIONS = (1.0, 2.0, 0.5, 1.5)


@learner_facing
def check_limited_map_cancelled(limited_map: LimitedMap) -> None:
    """limited_map on 7 items (calls of 1, 2, 0.5 and 1.5 s, repeated), limit 3, is cancelled at each of
    its waits in turn (calls running, items waiting for a slot): each time it ends cancelled, and leaves
    no task running."""
    chain = Chain("limited_map")
    chain.require_async_function(limited_map, "limited_map")
    items = list(SWEEP_ITEMS)

    def scenario(at: float) -> VirtualRun[Outcome]:
        async def main() -> Outcome:
            work = Workload(varied(items, SWEEP_DURATIONS))
            outcome = await cancelled_at(lambda: limited_map(work, items, 3), at)
            await asyncio.sleep(0)  # let anything it left behind show itself
            return outcome

        return run_virtual(main, deadline=DEADLINE)

    swept = cancellation_sweep(chain, "limited_map", scenario)
    ends_cancelled_at_each_wait(
        chain,
        "limited_map",
        swept,
        hint="let CancelledError propagate out of limited_map: do not catch it to return the results so far "
        "(nor catch BaseException, nor use return_exceptions=True around the calls)",
    )
    leaves_no_task_at_any_wait(
        chain,
        "limited_map",
        swept,
        prop="limited_map cancelled at any of its waits leaves no task running",
        hint="run the calls in an `async with asyncio.TaskGroup()`: cancelling limited_map then cancels every "
        "call it started, running or waiting for a slot, and waits for them (asyncio.wait() and create_task() "
        "alone leave them running)",
    )


def _short(value: object) -> str:
    return f"{value!r:.80}"


FRESH_MAP = (
    "make the results (and the Semaphore) inside limited_map, afresh on each call: not at module level, "
    "not as default arguments"
)
REUSE_ITEMS: tuple[tuple[Hashable, ...], ...] = ((1, 2, 3, 4), ("a", "b", "c", "d", "e"), (21, 22, 23, 24, 25, 26))


@learner_facing
def check_limited_map_reused(limited_map: LimitedMap) -> None:
    """limited_map called three times, limit 2 each: on 4 items, then on 5 and on 6 items at once (every
    call 1 s). Each call returns its own results, the first call's list does not change, and the two calls
    at once run 2 + 2 calls at once: each call has a limit of its own."""
    chain = Chain("limited_map")
    chain.require_async_function(limited_map, "limited_map")
    values: list[object] = []
    first_then: list[object] = []

    async def main() -> None:
        work = Workload(1.0)
        values.append(await limited_map(work, list(REUSE_ITEMS[0]), 2))
        first_then.extend(values[0] if isinstance(values[0], list) else [])
        values.extend(
            await asyncio.gather(limited_map(work, list(REUSE_ITEMS[1]), 2), limited_map(work, list(REUSE_ITEMS[2]), 2))
        )

    run = run_virtual(main, deadline=DEADLINE)
    runs_without_raising(chain, run, "three calls of limited_map", raised_hint="call it in a cell of your own")
    expected = [[Workload.expected(item) for item in items] for items in REUSE_ITEMS]
    wrong = [number for number, (got, want) in enumerate(zip(values, expected, strict=True), start=1) if got != want]
    fresh = FRESH_MAP
    chain.require(
        not wrong,
        "each call of limited_map returns the results of its own items only",
        observed=lambda: (
            f"limited_map was called three times (the second and third at once); call {wrong[0]} "
            f"(items {list(REUSE_ITEMS[wrong[0] - 1])}) returned {values[wrong[0] - 1]!r:.160}"
        ),
        hint=fresh,
    )
    chain.require(
        values[0] == first_then,
        "what limited_map returned does not change when it is called again",
        observed=lambda: (
            f"the first call returned {first_then!r:.100}; after two more calls it read {values[0]!r:.100}"
        ),
        hint=fresh,
    )
    peak = peak_in_flight(run.events)
    chain.require(
        peak == 4,
        "two calls of limited_map at once, limit 2 each, run 4 calls at once",
        observed=f"at most {peak} calls were in flight at once",
        hint="each call of limited_map has a limit of its own: make its Semaphore inside the call, not once "
        "for every call",
    )


# --------------------------------------------------------------- WorkerPool

POOL_METHODS = ("__aenter__", "__aexit__", "submit", "shutdown")
SHUTDOWN_HANG_HINT = (
    "leaving the block calls shutdown(): it must make every worker return (one STOP per worker, "
    "after the jobs) and then await the workers"
)


class BlockFailed(Exception):
    """The error a check's ``async with`` block raises on purpose."""


@dataclass
class PoolRun:
    """What a scenario saw of a pool: the future of each submitted job, in submission order (an item
    submitted twice is two jobs, with two futures), and when ``async with`` was left."""

    work: Workload
    futures: list[tuple[Hashable, asyncio.Future[Any]]] = field(default_factory=list)
    left_at: float | None = None
    unsettled_when_left: list[Hashable] = field(default_factory=list)

    def future_of(self, item: Hashable) -> asyncio.Future[Any] | None:
        """The last future submitted for ``item``."""
        return next((future for submitted, future in reversed(self.futures) if submitted == item), None)

    def finished_ok(self, item: Hashable, future: asyncio.Future[Any] | None) -> bool:
        return (
            future is not None
            and future.done()
            and not future.cancelled()
            and future.exception() is None
            and future.result() == self.work.expected(item)
        )


def run_pool(
    pool_class: PoolClass,
    work: Workload,
    items: Sequence[Hashable],
    *,
    workers: int,
    maxsize: int = 0,
    cancel_queued: Hashable | None = None,
) -> tuple[VirtualRun[None], PoolRun]:
    """Submit ``items`` at t=0 (each ``job.submitted`` once ``submit`` returns), optionally cancel
    one item's future, and leave the block normally."""
    seen = PoolRun(work)

    async def scenario() -> None:
        async with pool_class(work, workers=workers, maxsize=maxsize) as pool:
            for item in items:
                seen.futures.append((item, await pool.submit(item)))
                emit(Kind.JOB_SUBMITTED, item=item)
            if cancel_queued is not None and (future := seen.future_of(cancel_queued)) is not None:
                future.cancel()
        seen.left_at = asyncio.get_running_loop().time()
        seen.unsettled_when_left = [item for item, future in seen.futures if not future.done()]

    return run_virtual(scenario, deadline=DEADLINE), seen


def pool_is_a_class_with_async_methods(chain: Chain, candidate: object) -> None:
    """The learner's WorkerPool is a class whose protocol methods are ``async def``."""
    missing = [name for name in POOL_METHODS if not inspect.iscoroutinefunction(getattr(candidate, name, None))]
    chain.require(
        inspect.isclass(candidate) and not missing,
        f"WorkerPool is a class with async methods {', '.join(POOL_METHODS)}",
        observed=(
            f"WorkerPool is {candidate!r}, not a class"
            if not inspect.isclass(candidate)
            else f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing or not `async def`"
        ),
        hint="run the cell that defines `class WorkerPool:`; keep the methods' `async def` lines as given",
    )


def each_future_holds_its_result(chain: Chain, seen: PoolRun, items: Sequence[Hashable], *, hint: str) -> None:
    checked = set(items)
    wrong = [
        (item, future)
        for item, future in seen.futures
        if item in checked and item not in seen.work.failing and not seen.finished_ok(item, future)
    ]
    chain.require(
        not wrong,
        "each job's future holds what handle(item) returned",
        observed=lambda: (
            f"the future of item {wrong[0][0]!r} {describe_future(wrong[0][1])}, "
            f"expected the result {seen.work.expected(wrong[0][0])!r}"
        ),
        hint=hint,
    )


@learner_facing
def check_pool_results(
    WorkerPool: PoolClass,
    *,
    items: Sequence[Hashable] = tuple(range(1, 13)),
    workers: int = 3,
    durations: Sequence[float] = DURATIONS,
) -> None:
    """Jobs that succeed: each future holds its result, every job runs once in a task named
    ``worker-1``...``worker-N``, at most N at once, and no worker idles while jobs wait."""
    items = list(items)
    chain = Chain("WorkerPool")
    pool_is_a_class_with_async_methods(chain, WorkerPool)
    an_earlier_call(lambda: an_earlier_pool(WorkerPool))
    run, seen = run_pool(WorkerPool, Workload(varied(items, durations)), items, workers=workers)
    work = seen.work
    chain.require_finished(run, "the pool", hang_hint=SHUTDOWN_HANG_HINT)
    each_future_holds_its_result(
        chain,
        seen,
        items,
        hint="submit() returns a future; the worker that takes the job calls future.set_result(await handle(item))",
    )
    each_job_runs_once(chain, work, items)
    never_more_in_flight_than_the_limit(
        chain,
        run,
        workers,
        len(items),
        reach_hint="start every worker in __aenter__, and let each take jobs on its own: submit() must not wait "
        "for its job to start or finish, it returns the future at once",
    )
    no_slot_idles_while_calls_wait(
        chain,
        run,
        [work.duration(item) for item in items],
        workers,
        "no worker idles while jobs wait",
        hint="a worker takes the next job as soon as its job ends (and submit() must not wait for "
        "a job to finish before it returns)",
    )
    the_jobs_run_in_named_workers(chain, run, workers, len(items))


async def an_earlier_pool(pool_class: PoolClass) -> None:
    """A pool of 2 workers used for one job, before a check's own pool: state kept on the class shows."""
    async with pool_class(Workload(0.5), workers=2) as pool:
        await pool.submit(EARLIER)


def each_job_runs_once(chain: Chain, work: Workload, items: list[Hashable]) -> None:
    wanted, repeated = miscounted(work, items)
    chain.require(
        not repeated,
        "each job runs once (an item submitted twice is two jobs)",
        observed=lambda: describe_counts(work, wanted, repeated, "handle", "job"),
        hint="each submit() puts its own job in the queue, even for an item seen before, and the worker that "
        "takes it runs it once",
    )


def the_jobs_run_in_named_workers(chain: Chain, run: VirtualRun[None], workers: int, jobs: int) -> None:
    names = sorted({event.task or "?" for event in run.of_kind(Kind.WORK_START)})
    expected = {f"worker-{number}" for number in range(1, workers + 1)}
    chain.require(
        set(names) <= expected and len(names) == min(workers, jobs),
        f"the jobs run in tasks named worker-1{f' ... worker-{workers}' if workers > 1 else ''}",
        observed=f"handle() ran in tasks named {describe_values(names)}",
        hint="number each pool's workers from 1, in __aenter__: a counter kept on the class or the module goes on "
        "counting from the pool before"
        if any(name.startswith("worker-") and name not in expected for name in names)
        else 'name each worker task: asyncio.create_task(..., name=f"worker-{number}"), numbered from 1',
    )


@learner_facing
def check_pool_errors(
    WorkerPool: PoolClass,
    *,
    items: Sequence[Hashable] = tuple(range(1, 13)),
    workers: int = 3,
    failing: Iterable[Hashable] = (4, 9),
    durations: Sequence[float] = DURATIONS,
    every_kind: bool = False,
) -> None:
    """Some jobs raise: each failing job's future holds its exception, the other jobs still
    succeed, and leaving the block does not raise. With ``every_kind``, the failing jobs raise
    Exceptions of every kind (ItemFailed, ValueError, KeyError, OSError, TimeoutError, ...)."""
    items, failing = list(items), sorted(failing, key=repr)
    chain = Chain("WorkerPool")
    pool_is_a_class_with_async_methods(chain, WorkerPool)
    work = (EveryKindOfFailure if every_kind else Workload)(varied(items, durations), failing)
    run, seen = run_pool(WorkerPool, work, items, workers=workers)
    a_worker_keeps_going_when_a_job_raises(chain, run)
    a_failing_future_holds_the_exception(chain, seen, failing)
    each_future_holds_its_result(
        chain,
        seen,
        items,
        hint="a failing job must not stop its worker: after future.set_exception(error), take the next job",
    )


def a_worker_keeps_going_when_a_job_raises(chain: Chain, run: VirtualRun[None]) -> None:
    failure = find_failure(run.error)
    if failure is not None:
        chain.fail(
            "a worker keeps going when a job raises",
            observed=f"leaving the block raised {failure!r}: a worker died of it, and shutdown() re-raised it",
            hint="catch `Exception` itself: an `except` for some kinds of error only (ItemFailed, ValueError, ...) "
            f"lets any other kind (here {type(failure).__name__}) kill the worker"
            if isinstance(failure, ItemError)
            else "in the worker, catch `Exception` around `await handle(item)` and hand it to that job's "
            "future with future.set_exception(error); then go on with the next job (document 004, pitfall 2)",
        )
    chain.require_finished(
        run,
        "the pool",
        hang_hint="a worker that died of a job's error takes no more jobs: catch `Exception` around "
        "`await handle(item)`, and go on",
    )


def a_failing_future_holds_the_exception(chain: Chain, seen: PoolRun, failing: Sequence[Hashable]) -> None:
    failing_set = set(failing)
    wrong = [
        (item, future)
        for item, future in seen.futures
        if item in failing_set and not is_item_failure(future_exception(future))
    ]
    chain.require(
        not wrong,
        "a failing job's future holds the exception handle raised",
        observed=lambda: f"the future of item {wrong[0][0]!r} {describe_future(wrong[0][1])}",
        hint="in `except Exception as error:` call future.set_exception(error): the caller's "
        "`await future` then raises it, type and traceback included",
    )


@dataclass
class ShutdownRun(PoolRun):
    """A pool left normally, then asked once more: ``submit('late')``, and ``shutdown()`` a second time
    (``second_shutdown``: what went wrong with it, None if it returned within 1 s)."""

    late_submit: Outcome | None = None
    second_shutdown: str | None = None


def shutdown_scenario(
    pool_class: PoolClass, work: Workload, items: Sequence[Hashable], *, workers: int
) -> tuple[VirtualRun[None], ShutdownRun]:
    """Submit ``items`` at t=0 and leave the block at once; then submit once more and shut down again."""
    seen = ShutdownRun(work)

    async def scenario() -> None:
        pool = pool_class(work, workers=workers)
        async with pool:
            for item in items:
                seen.futures.append((item, await pool.submit(item)))
        seen.left_at = asyncio.get_running_loop().time()
        seen.unsettled_when_left = [item for item, future in seen.futures if not seen.finished_ok(item, future)]
        seen.late_submit = await timed_call(pool.submit("late"))
        try:
            async with asyncio.timeout(1.0):
                await pool.shutdown()
            seen.second_shutdown = None
        except TimeoutError:
            seen.second_shutdown = "it was still waiting 1 s later"
        except Exception as error:
            seen.second_shutdown = f"it raised {describe_error(error)}"

    return run_virtual(scenario, deadline=DEADLINE), seen


@learner_facing
def check_pool_shutdown(
    WorkerPool: PoolClass,
    *,
    items: Sequence[Hashable] = tuple(range(1, 11)),
    workers: int = 2,
    durations: Sequence[float] = DURATIONS,
) -> None:
    """Every job is submitted at t=0 and the block is left at once: leaving waits until every job
    has finished, and no longer; every worker has ended; submit() afterwards is a RuntimeError."""
    items = list(items)
    chain = Chain("WorkerPool")
    pool_is_a_class_with_async_methods(chain, WorkerPool)
    run, seen = shutdown_scenario(WorkerPool, Workload(varied(items, durations)), items, workers=workers)
    chain.require_finished(run, "the pool", hang_hint=SHUTDOWN_HANG_HINT)
    leaving_waits_for_every_job(chain, seen)
    leaving_returns_when_the_last_job_ends(chain, run, seen)
    chain.require(
        not run.leftover,
        "every worker has ended when shutdown() returns",
        observed=lambda: "still running after the pool shut down: " + "; ".join(t.describe() for t in run.leftover),
        hint="each worker returns when it takes STOP; shutdown() awaits every worker task",
    )
    submit_after_shutdown_raises(chain, seen)
    a_second_shutdown_only_waits(chain, seen)


def leaving_waits_for_every_job(chain: Chain, seen: ShutdownRun) -> None:
    unsettled = seen.unsettled_when_left
    chain.require(
        not unsettled,
        "leaving the block waits until every submitted job has finished",
        observed=lambda: (
            f"the block was left at t={seen.left_at:g} s; then the futures of items "
            f"{describe_values(unsettled)} were not settled with a result: "
            f"{describe_future(seen.future_of(unsettled[0]))} (item {unsettled[0]!r})"
        ),
        hint="shutdown() tells each worker to stop only after the jobs already queued (one STOP per "
        "worker, put after them), then waits for the workers: `await asyncio.gather(*workers)`",
    )


def leaving_returns_when_the_last_job_ends(chain: Chain, run: VirtualRun[None], seen: ShutdownRun) -> None:
    last_end = max((event.time or 0.0 for event in run.of_kind(Kind.WORK_END)), default=0.0)
    chain.require(
        seen.left_at == last_end,
        "leaving the block returns as soon as the last job has finished",
        observed=f"the last job ended at t={last_end:g} s, the block was left at t={seen.left_at:g} s",
        hint="wait for the workers themselves (await them), not for a guessed time",
    )


def submit_after_shutdown_raises(chain: Chain, seen: ShutdownRun) -> None:
    late = seen.late_submit
    error = late.error if late is not None else None
    chain.require(
        isinstance(error, RuntimeError),
        "submit() after shutdown raises RuntimeError",
        observed=(
            f"submit('late') raised {describe_error(error)}"
            if error is not None
            else "submit('late') returned a future that no worker will ever settle"
        ),
        hint="remember that the pool is closed (a flag set by shutdown()) and `raise RuntimeError(...)` in submit()",
    )


def a_second_shutdown_only_waits(chain: Chain, seen: ShutdownRun) -> None:
    chain.require(
        seen.second_shutdown is None,
        "calling shutdown() a second time only waits (here: returns at once)",
        observed=f"the pool had shut down; a second `await pool.shutdown()`: {seen.second_shutdown}",
        hint="on a second call, put no more STOPs and raise nothing: only `await asyncio.gather(*workers)` "
        "again (the workers have ended, so it returns at once)",
    )


@learner_facing
def check_pool_backpressure(
    WorkerPool: PoolClass,
    *,
    items: Sequence[Hashable] = tuple(range(1, 9)),
    workers: int = 2,
    maxsize: int = 2,
    durations: Sequence[float] = DURATIONS,
) -> None:
    """Jobs submitted one after another as fast as ``submit`` allows: at most ``maxsize`` ever wait
    to start (0: no bound); ``submit`` returns at once while fewer wait; no worker idles."""
    items = list(items)
    chain = Chain("WorkerPool")
    pool_is_a_class_with_async_methods(chain, WorkerPool)
    run, seen = run_pool(WorkerPool, Workload(varied(items, durations)), items, workers=workers, maxsize=maxsize)
    work = seen.work
    chain.require_finished(run, "the pool", hang_hint=SHUTDOWN_HANG_HINT)
    each_future_holds_its_result(chain, seen, items, hint="future.set_result(await handle(item)) in the worker")
    if maxsize > 0:
        at_most_maxsize_jobs_wait(chain, run, maxsize)
    submit_returns_at_once_while_there_is_room(chain, run, len(items), maxsize)
    no_slot_idles_while_calls_wait(
        chain,
        run,
        [work.duration(item) for item in items],
        workers,
        "no worker idles while jobs wait",
        hint="a worker takes the next job as soon as its job ends, and submit() returns as soon as there is room",
    )


def at_most_maxsize_jobs_wait(chain: Chain, run: VirtualRun[None], maxsize: int) -> None:
    times, waiting = jobs_waiting(run.events)
    worst = max(range(len(waiting)), key=waiting.__getitem__)
    chain.require(
        waiting[worst] <= maxsize,
        f"at most maxsize={maxsize} jobs wait to start",
        observed=f"at t={times[worst]:g} s, {waiting[worst]} submitted jobs were waiting for a worker",
        hint="create the queue with the pool's maxsize (asyncio.Queue(maxsize)) and `await queue.put(...)` "
        "in submit(): put waits while the queue is full",
    )


def submit_returns_at_once_while_there_is_room(chain: Chain, run: VirtualRun[None], jobs: int, maxsize: int) -> None:
    at_once = len([event for event in run.of_kind(Kind.JOB_SUBMITTED) if event.time == 0.0])
    room = jobs if maxsize == 0 else min(jobs, maxsize)
    chain.require(
        at_once >= room,
        "submit() returns at once while fewer than maxsize jobs wait"
        if maxsize
        else "with maxsize=0, submit() never waits",
        observed=f"only {at_once} of the {jobs} submit() calls returned at t=0 s",
        hint="submit() only waits for room in the queue, never for a job to start or finish",
    )


@learner_facing
def check_pool_cancel(
    WorkerPool: PoolClass,
    *,
    items: Sequence[Hashable] = tuple(range(1, 7)),
    workers: int = 2,
    duration: float = 2.0,
    cancel_queued: Hashable = 5,
    fail_at: float = 1.0,
    start: float = 0.0,
) -> None:
    """Two scenarios. 1: the future of queued job ``cancel_queued`` is cancelled: that job never
    runs. 2: the pool starts at loop time ``start`` and its block raises ``fail_at`` s later: the
    pool stops at once, every unsettled future is cancelled and every worker has ended cancelled
    by the time the block is left, the block's error propagates, and the pool is closed."""
    items = list(items)
    chain = Chain("WorkerPool")
    pool_is_a_class_with_async_methods(chain, WorkerPool)
    skipped_run, skipped = run_pool(WorkerPool, Workload(duration), items, workers=workers, cancel_queued=cancel_queued)
    a_job_cancelled_before_it_started_never_runs(chain, skipped_run, skipped, cancel_queued)
    each_future_holds_its_result(
        chain,
        skipped,
        [item for item in items if item != cancel_queued],
        hint="skip only the job whose future is done; run every other one",
    )
    work = Workload(duration)
    failed = failing_block_scenario(WorkerPool, work, items, workers=workers, fail_at=fail_at, start=start)
    chain.require_finished(
        failed.run,
        "leaving a block that raised",
        hang_hint="when the block raised (exc_type is not None), cancel the workers instead of waiting for the jobs",
    )
    the_block_error_propagates(chain, failed)
    the_pool_stops_at_once_when_the_block_raises(chain, failed, fail_at)
    every_worker_has_ended_when_the_block_is_left(chain, failed)
    every_future_is_settled_when_the_pool_stops(chain, failed)
    every_worker_ends_cancelled(chain, failed)
    the_pool_is_closed_after_the_block_raised(chain, failed)


def a_job_cancelled_before_it_started_never_runs(
    chain: Chain, run: VirtualRun[None], seen: PoolRun, cancel_queued: Hashable
) -> None:
    never_runs = "a job whose future was cancelled before it started never runs"
    if seen.work.calls[cancel_queued]:  # first: running it may be what made the pool crash
        chain.fail(
            never_runs,
            observed=f"the future of item {cancel_queued!r} was cancelled while the job waited in the queue, "
            f"and handle({cancel_queued!r}) was called anyway",
            hint="before running a job, skip it if future.done(): its submitter cancelled it",
        )
    chain.require_finished(run, "the pool with one cancelled job")
    chain.passed(never_runs)


@dataclass
class FailedBlock:
    """A pool whose ``async with`` block raised: ``seen.left_at`` is seconds after the start, ``running``
    the pool's tasks still running when the block was left, ``late_submit`` what ``submit('late')`` did
    then (None: it raised RuntimeError)."""

    run: VirtualRun[None]
    seen: PoolRun
    pool_tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    running: list[str] = field(default_factory=list)
    late_submit: str | None = None


def failing_block_scenario(
    pool_class: PoolClass, work: Workload, items: Sequence[Hashable], *, workers: int, fail_at: float, start: float
) -> FailedBlock:
    """At ``start``: submit ``items``, and ``fail_at`` s later raise BlockFailed in the block."""
    seen = PoolRun(work)
    pool_tasks: set[asyncio.Task[Any]] = set()
    after: dict[str, Any] = {}

    async def scenario() -> None:
        await sleep_until(start)
        before = asyncio.all_tasks()
        pool = pool_class(work, workers=workers)
        try:
            async with pool:
                for item in items:
                    seen.futures.append((item, await pool.submit(item)))
                await asyncio.sleep(fail_at)
                pool_tasks.update(asyncio.all_tasks() - before)
                raise BlockFailed("the block using the pool failed")
        except BlockFailed:
            seen.left_at = asyncio.get_running_loop().time() - start
            seen.unsettled_when_left = [item for item, future in seen.futures if not future.done()]
            after["running"] = sorted(task.get_name() for task in pool_tasks if not task.done())
            try:
                late = await pool.submit("late")
                late.cancel()
                after["submit"] = "returned a future that no worker will ever settle"
            except RuntimeError:
                after["submit"] = None
            except Exception as error:
                after["submit"] = f"raised {describe_error(error)}"

    run = run_virtual(scenario, deadline=start + DEADLINE)
    return FailedBlock(run, seen, pool_tasks, after.get("running", []), after.get("submit"))


def the_block_error_propagates(chain: Chain, failed: FailedBlock) -> None:
    chain.require(
        failed.seen.left_at is not None,
        "the block's error propagates out of `async with`",
        observed="the block raised BlockFailed, and `async with WorkerPool(...)` swallowed it",
        hint="__aexit__ must not return True: return None and the error goes on to the caller",
    )


def the_pool_stops_at_once_when_the_block_raises(chain: Chain, failed: FailedBlock, fail_at: float) -> None:
    left_at = failed.seen.left_at
    chain.require(
        left_at is not None and math.isclose(left_at, fail_at, abs_tol=CLOCK_RESOLUTION),
        "the pool stops at once when the block raises",
        observed=f"the block raised {fail_at:g} s after the start, and leaving it took until {left_at:g} s "
        "after the start",
        hint="in __aexit__, if exc_type is not None, do not shut down gracefully: cancel the workers, then await them",
    )


def every_worker_has_ended_when_the_block_is_left(chain: Chain, failed: FailedBlock) -> None:
    chain.require(
        not failed.running,
        "every worker has ended by the time the block is left",
        observed=lambda: f"when the block was left, tasks {describe_values(failed.running)} were still running",
        hint="after cancelling the workers, wait for them to end: `await asyncio.gather(*workers, "
        "return_exceptions=True)` (cancel() only asks a task to stop)",
    )


def every_future_is_settled_when_the_pool_stops(chain: Chain, failed: FailedBlock) -> None:
    unsettled = failed.seen.unsettled_when_left
    never_started = [item for item in unsettled if not failed.seen.work.calls[item]]
    chain.require(
        not unsettled,
        "every job's future is settled when the pool stops",
        observed=lambda: (
            f"when the block had been left, the futures of items {describe_values(unsettled)} were still "
            "pending: whoever awaits them waits forever"
        ),
        hint="__aexit__ must cancel the futures of the jobs still in the queue (get_nowait() until empty(), "
        "skipping the STOPs)"
        if never_started
        else "a worker cancelled while running a job cancels that job's future (`except asyncio.CancelledError: "
        "future.cancel(); raise`)",
    )


def every_worker_ends_cancelled(chain: Chain, failed: FailedBlock) -> None:
    alive = sorted(task.get_name() for task in failed.pool_tasks if not task.cancelled())
    chain.require(
        not alive and not failed.run.leftover,
        "every worker ends cancelled",
        observed=lambda: (
            f"tasks {describe_values(alive)} ended without being cancelled"
            if alive
            else "; ".join(task.describe() for task in failed.run.leftover)
        ),
        hint="cancel every worker task and await them; a worker must let CancelledError propagate "
        "(`except Exception` does not catch it; re-raise it after cancelling the job's future)",
    )


def the_pool_is_closed_after_the_block_raised(chain: Chain, failed: FailedBlock) -> None:
    chain.require(
        failed.late_submit is None,
        "after the block raised, the pool is closed: submit() raises RuntimeError",
        observed=f"submit('late') after the failed block {failed.late_submit}",
        hint="in __aexit__, close the pool (self._closed = True) on the error path too, not only in shutdown()",
    )


BLOCK = 20.0  # seconds the block of check_pool_cancelled waits after its last submit: every job ends before


@dataclass
class CancelledBlock:
    """The task running a pool's block, cancelled at ``at``: its Outcome, the futures submit() had returned,
    those still pending and the pool's tasks still running when the cancellation came out of the block."""

    at: float
    outcome: Outcome
    seen: PoolRun
    running: list[str] = field(default_factory=list)


def cancelled_block_scenario(
    pool_class: PoolClass, at: float, blocks: dict[float, CancelledBlock]
) -> VirtualRun[Outcome]:
    """2 workers, maxsize 2: the block submits SWEEP_ITEMS (calls of 1, 2, 0.5 and 1.5 s, repeated), then
    waits BLOCK s; the task running it is cancelled at ``at``. The run's value: the block's Outcome; what
    the block left is recorded in ``blocks[at]``."""
    items = list(SWEEP_ITEMS)
    seen = PoolRun(Workload(varied(items, SWEEP_DURATIONS)))

    async def block() -> None:
        async with pool_class(seen.work, workers=2, maxsize=2) as pool:
            for item in items:
                seen.futures.append((item, await pool.submit(item)))
            await asyncio.sleep(BLOCK)

    async def scenario() -> Outcome:
        before = asyncio.all_tasks()
        outcome = await cancelled_at(block, at)
        seen.unsettled_when_left = [item for item, future in seen.futures if not future.done()]
        running = sorted(task.get_name() for task in asyncio.all_tasks() - before if not task.done())
        blocks[at] = CancelledBlock(at, outcome, seen, running)
        await asyncio.sleep(0)
        return outcome

    return run_virtual(scenario, deadline=DEADLINE)


def _at(one: CancelledBlock) -> str:
    return f"the task running the block was cancelled at t={one.at:g} s"


@learner_facing
def check_pool_cancelled(WorkerPool: PoolClass) -> None:
    """A block using a pool (2 workers, maxsize 2) submits 7 jobs, then waits; the task running it is cancelled
    at each of its waits in turn (in submit() waiting for room, in the block while jobs run or after they
    ended). Each time the cancellation comes out of `async with` at once, with every future submit()
    returned settled and no task of the pool running. Then a submit() cancelled while it waits for room
    leaves the pool working: that job never runs, the others do."""
    chain = Chain("WorkerPool")
    pool_is_a_class_with_async_methods(chain, WorkerPool)
    blocks: dict[float, CancelledBlock] = {}
    swept = cancellation_sweep(
        chain,
        "the `async with` block",
        lambda at: cancelled_block_scenario(WorkerPool, at, blocks),
        instants=functools.partial(sweep_instants, until=BLOCK),  # in the block; not in its graceful exit
        hang_hint=SHUTDOWN_HANG_HINT,
    )
    ends_cancelled_at_each_wait(
        chain,
        "the `async with` block",
        swept,
        hint="__aexit__ must return None (not True) when the block raised, CancelledError included, and let "
        "the workers' CancelledError end them without catching it for the block",
    )
    a_cancelled_block_stops_the_pool_at_once(chain, [blocks[one.at] for one in swept])
    a_submit_cancelled_while_it_waits_leaves_the_pool_working(chain, WorkerPool)


def a_cancelled_block_stops_the_pool_at_once(chain: Chain, swept: list[CancelledBlock]) -> None:
    late = [one for one in swept if not math.isclose(one.outcome.ended or 0.0, one.at, abs_tol=CLOCK_RESOLUTION)]
    chain.require(
        not late,
        "a cancelled block stops the pool at once",
        observed=lambda: f"{_at(late[0])}, and leaving the block took until t={late[0].outcome.ended:g} s",
        hint="a cancellation is an error of the block like any other: in __aexit__, `if exc_type is not None` "
        "(not `issubclass(exc_type, Exception)`: CancelledError is a BaseException), cancel the workers instead "
        "of shutting down gracefully",
    )
    unsettled = [one for one in swept if one.seen.unsettled_when_left]
    chain.require(
        not unsettled,
        "a cancelled block leaves every submitted future settled",
        observed=lambda: (
            f"{_at(unsettled[0])}; when the block was left, the futures of items "
            f"{describe_values(unsettled[0].seen.unsettled_when_left)} were still pending"
        ),
        hint="on the error path __aexit__ cancels the workers (each cancels the future of the job it runs) and "
        "then the futures of the jobs still in the queue",
    )
    running = [one for one in swept if one.running]
    chain.require(
        not running,
        "a cancelled block leaves no task of the pool running",
        observed=lambda: (
            f"{_at(running[0])}; when the block was left, tasks {describe_values(running[0].running)} "
            "were still running"
        ),
        hint="after cancelling the workers, wait for them to end: `await asyncio.gather(*workers, "
        "return_exceptions=True)`",
    )


def a_submit_cancelled_while_it_waits_leaves_the_pool_working(chain: Chain, pool_class: PoolClass) -> None:
    """1 worker, maxsize 1, jobs of 1 s: jobs 1 and 2 submitted at t=0; a submit of job 3 waits for room and is
    cancelled at t=0.5 s; then jobs 4 and 5 are submitted, and the block is left normally."""
    seen = PoolRun(Workload(1.0))
    waiter: list[Outcome] = []

    async def scenario() -> None:
        async with pool_class(seen.work, workers=1, maxsize=1) as pool:
            for item in (1, 2):
                seen.futures.append((item, await pool.submit(item)))
            waiter.append(await cancelled_at(lambda: pool.submit(3), 0.5))
            for item in (4, 5):
                seen.futures.append((item, await pool.submit(item)))
        seen.left_at = asyncio.get_running_loop().time()

    run = run_virtual(scenario, deadline=DEADLINE)
    chain.require_finished(
        run,
        "a pool whose submit() was cancelled while it waited for room",
        hang_hint="a submit() cancelled while it waits for room must leave nothing behind: no job queued, no "
        "count or future left for shutdown() to wait on",
    )
    cancelled = bool(waiter) and waiter[0].cancelled
    chain.require(
        cancelled and not seen.work.calls[3],
        "a submit() cancelled while it waits for room ends cancelled, and its job never runs",
        observed=lambda: (
            f"submit(3), cancelled at t=0.5 s while the queue was full, {waiter[0].describe(_short)}"
            + ("; handle(3) was called" if seen.work.calls[3] else "")
        ),
        hint="submit() waits in `await self._queue.put(...)`: let its CancelledError propagate, and queue nothing "
        "before that wait",
    )
    each_future_holds_its_result(
        chain,
        seen,
        [1, 2, 4, 5],
        hint="after a cancelled submit(), the pool goes on: the jobs queued before and after it run as usual",
    )


@learner_facing
def check_pool_reused(WorkerPool: PoolClass) -> None:
    """Two pools of the class at once (3 and 2 workers, their own items), then a third (2 workers): each
    pool's futures hold its jobs' results, and each pool runs its jobs in its own tasks worker-1 ... worker-N."""
    chain = Chain("WorkerPool")
    pool_is_a_class_with_async_methods(chain, WorkerPool)
    pools = [(3, ("a", "b", "c", "d", "e")), (2, (11, 12, 13)), (2, (21, 22, 23, 24))]
    seen = [PoolRun(Workload(1.0)) for _ in pools]

    async def use(number: int) -> None:
        workers, items = pools[number]
        async with WorkerPool(seen[number].work, workers=workers) as pool:
            for item in items:
                seen[number].futures.append((item, await pool.submit(item)))

    async def scenario() -> None:
        await asyncio.gather(use(0), use(1))
        await use(2)

    run = run_virtual(scenario, deadline=DEADLINE)
    chain.require_finished(run, "three pools", hang_hint=SHUTDOWN_HANG_HINT)
    for number, (_, items) in enumerate(pools):
        each_future_holds_its_result(
            chain,
            seen[number],
            items,
            hint="keep every piece of a pool's state on the pool (self._...), made in __init__ or __aenter__: "
            "a class attribute or a module-level name is shared by every pool",
        )
    names = {
        number: sorted({e.task or "?" for e in run.of_kind(Kind.WORK_START) if e["item"] in items})
        for number, (_, items) in enumerate(pools)
    }
    wrong = [
        number
        for number, (workers, items) in enumerate(pools)
        if names[number] != [f"worker-{n}" for n in range(1, min(workers, len(items)) + 1)]
    ]
    chain.require(
        not wrong,
        "each pool runs its jobs in its own tasks, named worker-1 ... worker-N",
        observed=lambda: (
            f"pool {wrong[0] + 1} ({pools[wrong[0]][0]} workers, items {list(pools[wrong[0]][1])}) "
            f"ran them in tasks named {describe_values(names[wrong[0]])}"
        ),
        hint="number each pool's workers from 1, in __aenter__ (`for number in range(1, self._size + 1)`): a "
        "counter kept on the class or the module goes on counting from the pool before",
    )


def describe_future(future: asyncio.Future[Any] | None) -> str:
    if future is None:
        return "was never returned by submit()"
    if not future.done():
        return "is still pending"
    if future.cancelled():
        return "was cancelled"
    if future.exception() is not None:
        return f"holds the exception {future.exception()!r}"
    return f"holds the result {future.result()!r}"


def future_exception(future: asyncio.Future[Any] | None) -> BaseException | None:
    if future is None or not future.done() or future.cancelled():
        return None
    return future.exception()


# ------------------------------------------------------------- TaskManager


@dataclass
class ManagerRun:
    """What a TaskManager scenario saw: its jobs and the errors run_job let escape (the manager's own
    dict and list), the status of each job to cancel just before it was cancelled, and the ids of the
    jobs whose run_job let CancelledError out."""

    work: Workload
    jobs: dict[int, Job] = field(default_factory=dict)
    escaped: list[tuple[int, BaseException]] = field(default_factory=list)
    was: dict[int, JobStatus] = field(default_factory=dict)
    reraised: set[int] = field(default_factory=set)


def task_manager_scenario(
    manager_class: type[BackgroundJobs],
    *,
    items: Sequence[Hashable],
    workers: int,
    failing: Iterable[Hashable],
    duration: float,
    cancel_at: float,
    cancel: Sequence[int],
    start: float = 0.0,
    kind: Callable[[float, Iterable[Hashable]], Workload] = Workload,
) -> tuple[VirtualRun[None], ManagerRun]:
    """Submit ``items`` at loop time ``start``; ``cancel_at`` s later note the status of each job in
    ``cancel``, then cancel it. ``kind`` makes the workload."""
    work = kind(duration, failing)
    seen = ManagerRun(work)

    class Watched(manager_class):  # type: ignore[misc, valid-type]
        async def run_job(self, job: Job) -> None:
            try:
                await super().run_job(job)
            except asyncio.CancelledError:
                seen.reraised.add(job.id)
                raise

    async def scenario() -> None:
        await sleep_until(start)
        async with Watched(work, workers=workers) as manager:
            seen.jobs = manager.jobs
            seen.escaped = manager.escaped
            for item in items:
                manager.submit(item)
            await asyncio.sleep(cancel_at)
            for job_id in cancel:
                seen.was[job_id] = manager.jobs[job_id].status
                manager.cancel(job_id)

    return run_virtual(scenario, deadline=start + DEADLINE), seen


def expected_history(
    job: Job, run: VirtualRun[None], cancelled_at: float | None, start: float = 0.0
) -> list[tuple[float | None, str]]:
    """The (time, status) changes ``job`` should have: submitted at ``start``, then running and its end
    at the instants its handler call started and ended, or cancelled at ``cancelled_at`` if it never ran."""
    starts = [event.time for event in run.of_kind(Kind.WORK_START) if event["item"] == job.item]
    ends = [(event.time, event["outcome"]) for event in run.of_kind(Kind.WORK_END) if event["item"] == job.item]
    if not starts:
        return [(start, "pending"), *([(cancelled_at, "cancelled")] if cancelled_at is not None else [])]
    return [(start, "pending"), (starts[0], "running"), *ends[:1]]


@learner_facing
def check_task_manager(
    TaskManager: type[BackgroundJobs],
    *,
    items: Sequence[Hashable] = tuple("abcdefgh"),
    workers: int = 2,
    failing: Iterable[Hashable] = ("d",),
    duration: float = 1.0,
    cancel_at: float = 0.5,
    cancel: Sequence[int] = (2, 7),
    start: float = 0.0,
    every_kind: bool = False,
    sweep: bool = False,
) -> None:
    """A TaskManager whose ``run_job`` is the learner's, started at loop time ``start``; jobs ``cancel``
    are cancelled ``cancel_at`` s later. With ``every_kind``, the failing jobs raise Exceptions of every
    kind (ItemFailed, ValueError, KeyError, OSError, ...). With ``sweep``, ``cancel_at`` goes over each
    instant of the run without cancellation (every job start and end, and the midpoint before each), and
    every job is cancelled then: the properties below hold each time."""
    items, failing = list(items), sorted(failing, key=repr)
    chain = Chain("TaskManager")
    chain.require_async_function(getattr(TaskManager, "run_job", None), "TaskManager.run_job")
    settings: dict[str, Any] = {
        "items": items,
        "workers": workers,
        "failing": failing,
        "duration": duration,
        "start": start,
    }
    kind = EveryKindOfFailure if every_kind else Workload
    if sweep:
        whole, _ = task_manager_scenario(TaskManager, **settings, cancel_at=0.0, cancel=(), kind=kind)
        if whole.outcome == "returned":
            for at in [instant - start for instant in sweep_instants(whole, start=start)]:
                every_id = tuple(range(1, len(items) + 1))
                run, seen = task_manager_scenario(TaskManager, **settings, cancel_at=at, cancel=every_id, kind=kind)
                task_manager_properties(chain, run, seen, every_id, workers, start, at, quiet=True)
    run, seen = task_manager_scenario(TaskManager, **settings, cancel_at=cancel_at, cancel=cancel, kind=kind)
    task_manager_properties(chain, run, seen, cancel, workers, start, cancel_at)


def task_manager_properties(
    chain: Chain,
    run: VirtualRun[None],
    seen: ManagerRun,
    cancel: Sequence[int],
    workers: int,
    start: float,
    cancel_at: float,
    *,
    quiet: bool = False,
) -> None:
    """The properties of one task manager scenario; ``quiet``: no ✓ lines (a sweep prints those of its last run),
    and a failure names the instant at which the jobs were cancelled."""
    if quiet:
        try:
            with holding_quietly():
                task_manager_properties(chain, run, seen, cancel, workers, start, cancel_at)
        except CheckFailed as failure:
            raise CheckFailed(
                failure.subject,
                failure.prop,
                f"every job cancelled at t={start + cancel_at:g} s: {failure.observed}",
                failure.hint,
            ) from None
        return
    if any(isinstance(error, NotImplementedError) for _, error in seen.escaped):
        chain.fail_unimplemented("TaskManager.run_job")
    chain.require_finished(run, "the task manager")
    run_job_changes_status_only_along_the_life_cycle(chain, seen)
    run_job_records_a_failure_instead_of_raising_it(chain, seen)
    a_job_cancelled_while_pending_never_runs(chain, seen)
    each_job_ends_with_the_right_status(chain, seen)
    a_done_job_holds_the_result(chain, seen)
    a_failed_job_holds_the_exception(chain, seen)
    each_status_changes_when_the_job_does(chain, run, seen, start=start, cancel_at=cancel_at)
    run_job_reraises_the_cancellation_of_a_running_job(chain, seen, cancel)
    never_more_in_flight_than_the_limit(chain, run, workers, len(run.of_kind(Kind.WORK_START)))  # cancelled jobs


def run_job_changes_status_only_along_the_life_cycle(chain: Chain, seen: ManagerRun) -> None:
    jobs, work = seen.jobs, seen.work
    bad = [(job_id, error) for job_id, error in seen.escaped if isinstance(error, InvalidTransition)]
    chain.require(
        not bad,
        "run_job changes a status only along pending → running → done | failed | cancelled",
        observed=lambda: str(bad[0][1]) if str(bad[0][1]).startswith("job ") else f"job {bad[0][0]}: {bad[0][1]}",
        hint=(
            "the job's handler had already started while its status still said pending, so cancel() took it "
            "for a pending job: set RUNNING before `await self.handle(job.item)`, not after"
            if bad and bad[0][0] in jobs and work.calls[jobs[bad[0][0]].item]
            else "a job cancelled while it was pending must not run: return at once if its status "
            "is no longer pending (document 004's worker overwrites 'cancelled' with 'running')"
        ),
    )


def run_job_records_a_failure_instead_of_raising_it(chain: Chain, seen: ManagerRun) -> None:
    escaped = list(seen.escaped)
    chain.require(
        not escaped,
        "run_job records a job's failure instead of raising it",
        observed=lambda: f"run_job let {describe_error(escaped[0][1])} escape for job {escaped[0][0]}",
        hint="catch `Exception` itself: an `except` for some kinds of error only (ItemFailed, ValueError, ...) lets "
        f"any other kind (here {type(escaped[0][1]).__name__}) escape"
        if escaped and isinstance(escaped[0][1], ItemError)
        else "catch `Exception`, store it in job.error and set the status to FAILED",
    )


def a_job_cancelled_while_pending_never_runs(chain: Chain, seen: ManagerRun) -> None:
    jobs = seen.jobs
    ran_anyway = [
        job_id
        for job_id, job in jobs.items()
        if seen.was.get(job_id) is JobStatus.PENDING and seen.work.calls[job.item]
    ]
    chain.require(
        not ran_anyway,
        "a job cancelled while pending never runs",
        observed=lambda: (
            f"job {ran_anyway[0]} was cancelled while pending, and handle({jobs[ran_anyway[0]].item!r}) was called"
        ),
        hint="check job.status before running it: return if it is no longer pending",
    )


def expected_status(seen: ManagerRun, job_id: int, job: Job) -> JobStatus:
    if seen.was.get(job_id) in (JobStatus.PENDING, JobStatus.RUNNING):
        return JobStatus.CANCELLED
    return JobStatus.FAILED if job.item in seen.work.failing else JobStatus.DONE


def each_job_ends_with_the_right_status(chain: Chain, seen: ManagerRun) -> None:
    jobs = seen.jobs
    wrong = [job_id for job_id, job in jobs.items() if job.status is not expected_status(seen, job_id, job)]
    chain.require(
        not wrong,
        "each job ends with the right status",
        observed=lambda: (
            f"job {wrong[0]} (item {jobs[wrong[0]].item!r}) ended as {jobs[wrong[0]].status.value!r}, "
            f"expected {expected_status(seen, wrong[0], jobs[wrong[0]]).value!r}"
        ),
        hint=(
            "CancelledError is not an Exception: catch `Exception` for a failure (not BaseException, not a bare "
            "`except:`), and in `except asyncio.CancelledError:` set CANCELLED and re-raise"
            if wrong
            and jobs[wrong[0]].status is JobStatus.FAILED
            and expected_status(seen, wrong[0], jobs[wrong[0]]) is JobStatus.CANCELLED
            else status_hint(expected_status(seen, wrong[0], jobs[wrong[0]]))
            if wrong
            else ""
        ),
    )


def status_hint(expected: JobStatus) -> str:
    return {
        JobStatus.DONE: "after handle returns, set the status to DONE",
        JobStatus.FAILED: "when handle raises an Exception, set the status to FAILED",
        JobStatus.CANCELLED: "when CancelledError arrives while running, set CANCELLED and re-raise it",
        JobStatus.RUNNING: "set RUNNING just before awaiting handle",
        JobStatus.PENDING: "the job never left pending",
    }[expected]


def a_done_job_holds_the_result(chain: Chain, seen: ManagerRun) -> None:
    jobs, work = seen.jobs, seen.work
    results = [
        job_id for job_id, job in jobs.items() if job.status is JobStatus.DONE and job.result != work.expected(job.item)
    ]
    chain.require(
        not results,
        "a done job holds handle's result in job.result",
        observed=lambda: (
            f"job {results[0]}: job.result is {jobs[results[0]].result!r}, "
            f"expected {work.expected(jobs[results[0]].item)!r}"
        ),
        hint="job.result = await self.handle(job.item)",
    )


def a_failed_job_holds_the_exception(chain: Chain, seen: ManagerRun) -> None:
    jobs = seen.jobs
    errors = [
        job_id for job_id, job in jobs.items() if job.status is JobStatus.FAILED and not is_item_failure(job.error)
    ]
    chain.require(
        not errors,
        "a failed job holds the exception itself in job.error",
        observed=lambda: f"job {errors[0]}: job.error is {jobs[errors[0]].error!r}",
        hint="store the exception object (`job.error = error`), not str(error)",
    )


def each_status_changes_when_the_job_does(
    chain: Chain, run: VirtualRun[None], seen: ManagerRun, *, start: float, cancel_at: float
) -> None:
    jobs = seen.jobs

    def history(job: Job) -> list[tuple[float | None, str]]:
        return [(time, status.value) for time, status in job.history]

    def expected(job_id: int, job: Job) -> list[tuple[float | None, str]]:
        cancelled_at = start + cancel_at if seen.was.get(job_id) is JobStatus.PENDING else None
        return expected_history(job, run, cancelled_at, start)

    late = [job_id for job_id, job in jobs.items() if history(job) != expected(job_id, job)]
    chain.require(
        not late,
        "each status changes when the job really changes",
        observed=lambda: (
            f"job {late[0]}: history {history(jobs[late[0]])}, expected {expected(late[0], jobs[late[0]])}"
        ),
        hint=(
            "use job.set_status(...) for every change: it records job.history (assigning job.status records nothing)"
            if late and len(jobs[late[0]].history) == 1 and jobs[late[0]].status is not JobStatus.PENDING
            else "set RUNNING just before awaiting the handler, and the end status as soon as it returns or raises"
        ),
    )


def run_job_reraises_the_cancellation_of_a_running_job(chain: Chain, seen: ManagerRun, cancel: Sequence[int]) -> None:
    swallowed = [
        job_id
        for job_id in cancel
        if seen.was.get(job_id) is JobStatus.RUNNING and job_id in seen.jobs and job_id not in seen.reraised
    ]
    chain.require(
        not swallowed,
        "run_job re-raises the cancellation of a running job",
        observed=lambda: f"job {swallowed[0]} was cancelled while running, and run_job returned normally",
        hint="in `except asyncio.CancelledError:` set CANCELLED, then `raise`: a task that swallows its "
        "cancellation keeps its canceller waiting and hides that it was stopped",
    )


# ----------------------------------------------------------- shared properties


def runs_without_raising(chain: Chain, run: VirtualRun[Any], what: str, *, raised_hint: str) -> None:
    """The run returned. An error other than the placeholder's gets ``raised_hint`` (no item fails in
    these scenarios, so an item failure means a call was made with an item that was not given)."""
    if run.outcome == "raised" and not isinstance(run.error, NotImplementedError):
        chain.fail(
            f"{what} runs without raising",
            observed=f"raised {describe_error(run.error)}",
            hint=raised_hint,
        )
    chain.require_finished(run, what)


def never_more_in_flight_than_the_limit(
    chain: Chain,
    run: VirtualRun[Any],
    limit: int,
    jobs: int,
    *,
    must_reach: bool = True,
    reach_hint: str = "start the calls concurrently (tasks), not one after another",
) -> None:
    """At most ``limit`` calls in flight; with ``must_reach``, as many as ``limit`` (or ``jobs``) at some instant."""
    peak = peak_in_flight(run.events)
    chain.require(
        peak <= limit,
        f"never more than {limit} call{'s' if limit != 1 else ''} in flight",
        observed=f"peak in-flight was {peak}, limit {limit}",
        hint=(
            f"all {peak} calls ran at once: the limit was not applied to them at all; every call must hold "
            "a slot for its whole duration (`async with semaphore:` around `await func(item)`)"
            if peak == jobs
            else f"one call too many: a limit of {limit} is Semaphore({limit}) (or {limit} workers), and a slot "
            "is released only after its call has ended"
            if peak == limit + 1
            else "every call must hold a slot for its whole duration: acquire before the call starts, "
            "release after it ends (`async with semaphore:` around the await)"
        ),
    )
    if must_reach:
        reach = min(limit, jobs)
        chain.require(
            peak == reach,
            f"{reach} call{'s' if reach != 1 else ''} run{'s' if reach == 1 else ''} at the same time "
            "when there is enough work",
            observed=f"peak in-flight was {peak}, limit {limit}",
            hint=reach_hint,
        )


def no_slot_idles_while_calls_wait(
    chain: Chain, run: VirtualRun[Any], durations: list[float], limit: int, prop: str, *, hint: str
) -> None:
    """``prop``: at no instant fewer than ``limit`` calls ran while some of the ``len(durations)`` waited."""
    gap = idle_slots(run.events, len(durations), limit)
    if gap is not None:
        chain.fail(
            prop,
            observed=f"at t={gap[0]:g} s only {gap[1]} call(s) ran while {gap[2]} waited to start "
            f"(limit {limit}); finished at t={run.elapsed:g} s, {greedy_finish(durations, limit):g} s was possible",
            hint=hint,
        )
    chain.passed(prop)


def describe_run(run: VirtualRun[object]) -> str:
    """``returned ..``, ``raised ..`` or ``did not finish: ..``: how a short run ended."""
    if run.outcome == "returned":
        return f"returned {run.value!r:.60}"
    if run.outcome == "raised":
        return f"raised {describe_error(run.error)}"
    return f"did not finish: {run.diagnosis.splitlines()[0]}"
