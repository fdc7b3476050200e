"""Chapter 2 checks: ``limited_map``, the ``WorkerPool`` class, and ``TaskManager.run_job``.

Each ``check_*`` takes the learner's function or class (never the reference), runs one
scenario on a virtual clock against a :class:`~coursekit.workload.Workload`, and walks a
chain: defined -> runs -> terminates -> correct -> respects limits. ``WorkerPool`` has one
check per behaviour (results, errors, shutdown, backpressure, cancellation), so each can
earn its own points. A failure names the scenario with its arguments: calling that check
with them in a cell of your own runs the same scenario again.

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
import heapq
import inspect
import itertools
import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from coursekit.analysis import idle_slots, peak_in_flight
from coursekit.chapters.worker_pools.analysis import jobs_waiting
from coursekit.chapters.worker_pools.given import InvalidTransition, Job, JobStatus
from coursekit.checks import Chain, describe_error, describe_values, leaf_exceptions, learner_facing
from coursekit.events import Kind, emit
from coursekit.virtual_time import VirtualRun, run_virtual
from coursekit.workload import ItemFailed, Workload, find_item_failure

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
    limited_map: Callable[..., Any],
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

    async def scenario() -> Any:
        await asyncio.sleep(start)
        return await limited_map(work, items, limit)

    run = run_virtual(scenario, deadline=start + DEADLINE)
    _require_ran(
        chain,
        run,
        "limited_map",
        raised_hint="with no items there is nothing to run: return [] (asyncio.wait() refuses an empty set)"
        if not items
        else "call limited_map with the scenario's items and limit in a cell of your own to see the traceback",
    )
    expected = [work.expected(item) for item in items]
    chain.require(
        isinstance(run.value, list),
        "limited_map returns a list",
        observed=f"it returned {run.value!r:.120}",
        hint="return a list of the results",
    )
    values: list[Any] = run.value if isinstance(run.value, list) else []
    chain.require(
        sorted(map(repr, values)) == sorted(map(repr, expected)),
        "limited_map returns one result per item",
        observed=lambda: f"returned {len(values)} result(s) for {len(items)} items: {describe_values(values)}",
        hint="await func(item) once for every item and collect what each call returns",
    )
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
    wanted = Counter(items)
    repeated = sorted((item for item in work.calls | wanted if work.calls[item] != wanted[item]), key=repr)
    chain.require(
        not repeated,
        "func is called once per item (an item that repeats, once per occurrence)",
        observed=lambda: "; ".join(
            f"func({item!r}) was called {work.calls[item]} time{'s' if work.calls[item] != 1 else ''} "
            f"for {wanted[item]} occurrence{'s' if wanted[item] != 1 else ''}"
            for item in repeated[:3]
        ),
        hint="call func(item) exactly once for every element of items, repeats included: "
        "do not skip or cache items seen before, and do not retry"
        if any(work.calls[item] < wanted[item] for item in repeated)
        else "call func(item) exactly once per element of items: do not retry, and start each call once",
    )
    chain.require_no_leftover_tasks(run, "limited_map")
    _require_limit(chain, run, limit, len(items))
    _require_no_idle_slot(
        chain,
        run,
        [work.duration(item) for item in items],
        limit,
        "a call starts as soon as a slot is free (no batches)",
        hint="batches wait for their slowest member (document 003's second version): instead let "
        "every item wait for a slot of its own, e.g. one task per item under a Semaphore",
    )
    invalid = run_virtual(lambda: limited_map(work, [1, 2], 0), deadline=10.0)
    chain.require(
        isinstance(invalid.error, ValueError),
        "limit=0 is a ValueError",
        observed=f"limited_map(func, [1, 2], 0) {_outcome(invalid)}",
        hint="with no slot, nothing could ever run: check `if limit < 1: raise ValueError(...)` first",
    )


@learner_facing
def check_limited_map_failure(
    limited_map: Callable[..., Any],
    *,
    items: Sequence[Hashable] = tuple(range(10)),
    limit: int = 3,
    failing: Iterable[Hashable] = (4,),
    duration: float = 1.0,
    start: float = 0.0,
) -> None:
    """Some item fails: limited_map raises an ExceptionGroup and cancels the rest at once. The call
    starts at loop time ``start``."""
    items, failing = list(items), sorted(failing, key=repr)
    chain = Chain("limited_map")
    chain.require_async_function(limited_map, "limited_map")
    work = Workload(duration, failing)

    async def scenario() -> Any:
        await asyncio.sleep(start)
        return await limited_map(work, items, limit)

    run = run_virtual(scenario, deadline=start + DEADLINE)
    if run.outcome != "raised" or isinstance(run.error, NotImplementedError):
        chain.require_finished(run, "limited_map")
    chain.require(
        run.outcome == "raised",
        "limited_map raises when an item fails",
        observed=f"func({sorted(work.failing, key=repr)[0]!r}) raised ItemFailed, and limited_map "
        f"returned {run.value!r:.80}",
        hint="do not catch the error (nor use return_exceptions=True): an asyncio.TaskGroup re-raises it for you",
    )
    group = run.error if isinstance(run.error, BaseExceptionGroup) else None
    chain.require(
        group is not None and any(isinstance(e, ItemFailed) for e in leaf_exceptions(group)),
        "the failure surfaces as an ExceptionGroup holding ItemFailed",
        observed=f"limited_map raised {describe_error(run.error)}",
        hint="run the calls in an asyncio.TaskGroup: it cancels the others and raises an "
        "ExceptionGroup (asyncio.gather raises the bare error and leaves the others running)",
    )
    chain.require_no_leftover_tasks(run, "limited_map")
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
    _require_limit(chain, run, limit, len(items), must_reach=False)


# --------------------------------------------------------------- WorkerPool

POOL_METHODS = ("__aenter__", "__aexit__", "submit", "shutdown")


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
    pool_class: Callable[..., Any],
    work: Workload,
    items: Sequence[Hashable],
    *,
    workers: int,
    maxsize: int = 0,
    cancel_queued: Hashable | None = None,
) -> tuple[VirtualRun[Any], PoolRun]:
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


def _require_pool_class(chain: Chain, candidate: Any) -> None:
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


def _require_results(chain: Chain, seen: PoolRun, items: Sequence[Hashable], *, hint: str) -> None:
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
            f"the future of item {wrong[0][0]!r} {_describe_future(wrong[0][1])}, "
            f"expected the result {seen.work.expected(wrong[0][0])!r}"
        ),
        hint=hint,
    )


@learner_facing
def check_pool_results(
    WorkerPool: Callable[..., Any],
    *,
    items: Sequence[Hashable] = tuple(range(1, 13)),
    workers: int = 3,
    durations: Sequence[float] = DURATIONS,
) -> None:
    """Jobs that succeed: each future holds its result, every job runs once in a task named
    ``worker-1``...``worker-N``, at most N at once, and no worker idles while jobs wait."""
    items = list(items)
    chain = Chain("WorkerPool")
    _require_pool_class(chain, WorkerPool)
    run, seen = run_pool(WorkerPool, Workload(varied(items, durations)), items, workers=workers)
    work = seen.work
    chain.require_finished(run, "the pool", hang_hint=_SHUTDOWN_HANG_HINT)
    _require_results(
        chain,
        seen,
        items,
        hint="submit() returns a future; the worker that takes the job calls future.set_result(await handle(item))",
    )
    wanted = Counter(items)
    repeated = sorted((item for item in work.calls | wanted if work.calls[item] != wanted[item]), key=repr)
    chain.require(
        not repeated,
        "each job runs once (an item submitted twice is two jobs)",
        observed=lambda: "; ".join(
            f"handle({item!r}) was called {work.calls[item]} time{'s' if work.calls[item] != 1 else ''} "
            f"for {wanted[item]} job{'s' if wanted[item] != 1 else ''}"
            for item in repeated[:3]
        ),
        hint="each submit() puts its own job in the queue, even for an item seen before, and the worker that "
        "takes it runs it once",
    )
    _require_limit(
        chain,
        run,
        workers,
        len(items),
        reach_hint="start every worker in __aenter__, and let each take jobs on its own: submit() must not wait "
        "for its job to start or finish, it returns the future at once",
    )
    _require_no_idle_slot(
        chain,
        run,
        [work.duration(item) for item in items],
        workers,
        "no worker idles while jobs wait",
        hint="a worker takes the next job as soon as its job ends (and submit() must not wait for "
        "a job to finish before it returns)",
    )
    names = sorted({event.task or "?" for event in run.of_kind(Kind.WORK_START)})
    expected = {f"worker-{number}" for number in range(1, workers + 1)}
    chain.require(
        set(names) <= expected and len(names) == min(workers, len(items)),
        f"the jobs run in tasks named worker-1{f' ... worker-{workers}' if workers > 1 else ''}",
        observed=f"handle() ran in tasks named {describe_values(names)}",
        hint='name each worker task: asyncio.create_task(..., name=f"worker-{number}"), numbered from 1',
    )


@learner_facing
def check_pool_errors(
    WorkerPool: Callable[..., Any],
    *,
    items: Sequence[Hashable] = tuple(range(1, 13)),
    workers: int = 3,
    failing: Iterable[Hashable] = (4, 9),
    durations: Sequence[float] = DURATIONS,
) -> None:
    """Some jobs raise: each failing job's future holds its exception, the other jobs still
    succeed, and leaving the block does not raise."""
    items, failing = list(items), sorted(failing, key=repr)
    chain = Chain("WorkerPool")
    _require_pool_class(chain, WorkerPool)
    run, seen = run_pool(WorkerPool, Workload(varied(items, durations), failing), items, workers=workers)
    failure = find_item_failure(run.error)
    if failure is not None:
        chain.fail(
            "a worker keeps going when a job raises",
            observed=f"leaving the block raised {failure!r}: a worker died of it, and shutdown() re-raised it",
            hint="in the worker, catch `Exception` around `await handle(item)` and hand it to that job's "
            "future with future.set_exception(error); then go on with the next job (document 004, pitfall 2)",
        )
    chain.require_finished(
        run,
        "the pool",
        hang_hint="a worker that died of a job's error takes no more jobs: catch `Exception` around "
        "`await handle(item)`, and go on",
    )
    failing_set = set(failing)
    wrong = [
        (item, future)
        for item, future in seen.futures
        if item in failing_set and not isinstance(_exception(future), ItemFailed)
    ]
    chain.require(
        not wrong,
        "a failing job's future holds the exception handle raised",
        observed=lambda: f"the future of item {wrong[0][0]!r} {_describe_future(wrong[0][1])}",
        hint="in `except Exception as error:` call future.set_exception(error): the caller's "
        "`await future` then raises it, type and traceback included",
    )
    _require_results(
        chain,
        seen,
        items,
        hint="a failing job must not stop its worker: after future.set_exception(error), take the next job",
    )


@learner_facing
def check_pool_shutdown(
    WorkerPool: Callable[..., Any],
    *,
    items: Sequence[Hashable] = tuple(range(1, 11)),
    workers: int = 2,
    durations: Sequence[float] = DURATIONS,
) -> None:
    """Every job is submitted at t=0 and the block is left at once: leaving waits until every job
    has finished, and no longer; every worker has ended; submit() afterwards is a RuntimeError."""
    items = list(items)
    chain = Chain("WorkerPool")
    _require_pool_class(chain, WorkerPool)
    late: dict[str, Any] = {}
    work = Workload(varied(items, durations))
    seen = PoolRun(work)

    async def scenario() -> None:
        pool = WorkerPool(work, workers=workers)
        async with pool:
            for item in items:
                seen.futures.append((item, await pool.submit(item)))
        seen.left_at = asyncio.get_running_loop().time()
        seen.unsettled_when_left = [item for item, future in seen.futures if not seen.finished_ok(item, future)]
        try:
            late["future"] = await pool.submit("late")
        except Exception as error:
            late["error"] = error
        try:
            async with asyncio.timeout(1.0):
                await pool.shutdown()
            late["again"] = None
        except TimeoutError:
            late["again"] = "it was still waiting 1 s later"
        except Exception as error:
            late["again"] = f"it raised {describe_error(error)}"

    run = run_virtual(scenario, deadline=DEADLINE)
    chain.require_finished(run, "the pool", hang_hint=_SHUTDOWN_HANG_HINT)
    unsettled = seen.unsettled_when_left
    chain.require(
        not unsettled,
        "leaving the block waits until every submitted job has finished",
        observed=lambda: (
            f"the block was left at t={seen.left_at:g} s; then the futures of items "
            f"{describe_values(unsettled)} were not settled with a result: "
            f"{_describe_future(seen.future_of(unsettled[0]))} (item {unsettled[0]!r})"
        ),
        hint="shutdown() tells each worker to stop only after the jobs already queued (one STOP per "
        "worker, put after them), then waits for the workers: `await asyncio.gather(*workers)`",
    )
    last_end = max((event.time or 0.0 for event in run.of_kind(Kind.WORK_END)), default=0.0)
    chain.require(
        seen.left_at == last_end,
        "leaving the block returns as soon as the last job has finished",
        observed=f"the last job ended at t={last_end:g} s, the block was left at t={seen.left_at:g} s",
        hint="wait for the workers themselves (await them), not for a guessed time",
    )
    chain.require(
        not run.leftover,
        "every worker has ended when shutdown() returns",
        observed=lambda: "still running after the pool shut down: " + "; ".join(t.describe() for t in run.leftover),
        hint="each worker returns when it takes STOP; shutdown() awaits every worker task",
    )
    chain.require(
        isinstance(late.get("error"), RuntimeError),
        "submit() after shutdown raises RuntimeError",
        observed=(
            f"submit('late') raised {describe_error(late['error'])}"
            if "error" in late
            else "submit('late') returned a future that no worker will ever settle"
        ),
        hint="remember that the pool is closed (a flag set by shutdown()) and `raise RuntimeError(...)` in submit()",
    )
    chain.require(
        late.get("again") is None,
        "calling shutdown() a second time only waits (here: returns at once)",
        observed=f"the pool had shut down; a second `await pool.shutdown()`: {late.get('again')}",
        hint="on a second call, put no more STOPs and raise nothing: only `await asyncio.gather(*workers)` "
        "again (the workers have ended, so it returns at once)",
    )


@learner_facing
def check_pool_backpressure(
    WorkerPool: Callable[..., Any],
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
    _require_pool_class(chain, WorkerPool)
    run, seen = run_pool(WorkerPool, Workload(varied(items, durations)), items, workers=workers, maxsize=maxsize)
    work = seen.work
    chain.require_finished(run, "the pool", hang_hint=_SHUTDOWN_HANG_HINT)
    _require_results(chain, seen, items, hint="future.set_result(await handle(item)) in the worker")
    times, waiting = jobs_waiting(run.events)
    if maxsize > 0:
        worst = max(range(len(waiting)), key=waiting.__getitem__)
        chain.require(
            waiting[worst] <= maxsize,
            f"at most maxsize={maxsize} jobs wait to start",
            observed=f"at t={times[worst]:g} s, {waiting[worst]} submitted jobs were waiting for a worker",
            hint="create the queue with the pool's maxsize (asyncio.Queue(maxsize)) and `await queue.put(...)` "
            "in submit(): put waits while the queue is full",
        )
    at_once = len([event for event in run.of_kind(Kind.JOB_SUBMITTED) if event.time == 0.0])
    room = len(items) if maxsize == 0 else min(len(items), maxsize)
    chain.require(
        at_once >= room,
        "submit() returns at once while fewer than maxsize jobs wait"
        if maxsize
        else "with maxsize=0, submit() never waits",
        observed=f"only {at_once} of the {len(items)} submit() calls returned at t=0 s",
        hint="submit() only waits for room in the queue, never for a job to start or finish",
    )
    _require_no_idle_slot(
        chain,
        run,
        [work.duration(item) for item in items],
        workers,
        "no worker idles while jobs wait",
        hint="a worker takes the next job as soon as its job ends, and submit() returns as soon as there is room",
    )


@learner_facing
def check_pool_cancel(
    WorkerPool: Callable[..., Any],
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
    _require_pool_class(chain, WorkerPool)
    skipped_run, skipped = run_pool(WorkerPool, Workload(duration), items, workers=workers, cancel_queued=cancel_queued)
    never_runs = "a job whose future was cancelled before it started never runs"
    if skipped.work.calls[cancel_queued]:  # first: running it may be what made the pool crash
        chain.fail(
            never_runs,
            observed=f"the future of item {cancel_queued!r} was cancelled while the job waited in the queue, "
            f"and handle({cancel_queued!r}) was called anyway",
            hint="before running a job, skip it if future.done(): its submitter cancelled it",
        )
    chain.require_finished(skipped_run, "the pool with one cancelled job")
    chain.passed(never_runs)
    _require_results(
        chain,
        skipped,
        [item for item in items if item != cancel_queued],
        hint="skip only the job whose future is done; run every other one",
    )

    work = Workload(duration)
    seen = PoolRun(work)
    pool_tasks: set[asyncio.Task[Any]] = set()
    after: dict[str, Any] = {}

    async def scenario() -> None:
        await asyncio.sleep(start)
        before = asyncio.all_tasks()
        pool = WorkerPool(work, workers=workers)
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
    chain.require_finished(
        run,
        "leaving a block that raised",
        hang_hint="when the block raised (exc_type is not None), cancel the workers instead of waiting for the jobs",
    )
    chain.require(
        seen.left_at is not None,
        "the block's error propagates out of `async with`",
        observed="the block raised BlockFailed, and `async with WorkerPool(...)` swallowed it",
        hint="__aexit__ must not return True: return None and the error goes on to the caller",
    )
    chain.require(
        seen.left_at is not None and math.isclose(seen.left_at, fail_at, abs_tol=CLOCK_RESOLUTION),
        "the pool stops at once when the block raises",
        observed=f"the block raised {fail_at:g} s after the start, and leaving it took until {seen.left_at:g} s "
        "after the start",
        hint="in __aexit__, if exc_type is not None, do not shut down gracefully: cancel the workers, then await them",
    )
    chain.require(
        not after.get("running"),
        "every worker has ended by the time the block is left",
        observed=lambda: f"when the block was left, tasks {describe_values(after['running'])} were still running",
        hint="after cancelling the workers, wait for them to end: `await asyncio.gather(*workers, "
        "return_exceptions=True)` (cancel() only asks a task to stop)",
    )
    unsettled = seen.unsettled_when_left
    never_started = [item for item in unsettled if not work.calls[item]]
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
    alive = sorted(task.get_name() for task in pool_tasks if not task.cancelled())
    chain.require(
        not alive and not run.leftover,
        "every worker ends cancelled",
        observed=lambda: (
            f"tasks {describe_values(alive)} ended without being cancelled"
            if alive
            else "; ".join(task.describe() for task in run.leftover)
        ),
        hint="cancel every worker task and await them; a worker must let CancelledError propagate "
        "(`except Exception` does not catch it; re-raise it after cancelling the job's future)",
    )
    chain.require(
        after.get("submit") is None,
        "after the block raised, the pool is closed: submit() raises RuntimeError",
        observed=f"submit('late') after the failed block {after.get('submit')}",
        hint="in __aexit__, close the pool (self._closed = True) on the error path too, not only in shutdown()",
    )


_SHUTDOWN_HANG_HINT = (
    "leaving the block calls shutdown(): it must make every worker return (one STOP per worker, "
    "after the jobs) and then await the workers"
)


def _exception(future: asyncio.Future[Any] | None) -> BaseException | None:
    if future is None or not future.done() or future.cancelled():
        return None
    return future.exception()


# ------------------------------------------------------------- TaskManager


def task_manager_scenario(
    manager_class: Callable[..., Any],
    *,
    items: Sequence[Hashable],
    workers: int,
    failing: Iterable[Hashable],
    duration: float,
    cancel_at: float,
    cancel: Sequence[int],
    start: float = 0.0,
) -> tuple[VirtualRun[Any], Workload, dict[str, Any]]:
    """Submit ``items`` at loop time ``start``; ``cancel_at`` s later note the status of each job in
    ``cancel``, then cancel it. ``seen["reraised"]``: ids of jobs whose run_job let CancelledError out."""
    work = Workload(duration, failing)
    seen: dict[str, Any] = {"jobs": {}, "escaped": [], "cancel_state": {}, "reraised": set()}

    class Watched(manager_class):  # type: ignore[misc, valid-type]
        async def run_job(self, job: Job) -> None:
            try:
                await super().run_job(job)
            except asyncio.CancelledError:
                seen["reraised"].add(job.id)
                raise

    async def scenario() -> None:
        await asyncio.sleep(start)
        async with Watched(work, workers=workers) as manager:
            seen["jobs"] = manager.jobs
            seen["escaped"] = manager.escaped
            for item in items:
                manager.submit(item)
            await asyncio.sleep(cancel_at)
            for job_id in cancel:
                seen["cancel_state"][job_id] = manager.jobs[job_id].status
                manager.cancel(job_id)

    return run_virtual(scenario, deadline=start + DEADLINE), work, seen


def expected_history(
    job: Job, run: VirtualRun[Any], cancelled_at: float | None, start: float = 0.0
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
    TaskManager: Callable[..., Any],
    *,
    items: Sequence[Hashable] = tuple("abcdefgh"),
    workers: int = 2,
    failing: Iterable[Hashable] = ("d",),
    duration: float = 1.0,
    cancel_at: float = 0.5,
    cancel: Sequence[int] = (2, 7),
    start: float = 0.0,
) -> None:
    """A TaskManager whose ``run_job`` is the learner's, started at loop time ``start``; jobs ``cancel``
    are cancelled ``cancel_at`` s later."""
    items, failing = list(items), sorted(failing, key=repr)
    chain = Chain("TaskManager")
    chain.require_async_function(getattr(TaskManager, "run_job", None), "TaskManager.run_job")
    run, work, seen = task_manager_scenario(
        TaskManager,
        items=items,
        workers=workers,
        failing=failing,
        duration=duration,
        cancel_at=cancel_at,
        cancel=cancel,
        start=start,
    )
    if any(isinstance(error, NotImplementedError) for _, error in seen["escaped"]):
        chain.fail_unimplemented("TaskManager.run_job")
    chain.require_finished(run, "the task manager")
    jobs: dict[int, Job] = seen["jobs"]
    bad = [(job_id, error) for job_id, error in seen["escaped"] if isinstance(error, InvalidTransition)]
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
    escaped = list(seen["escaped"])
    chain.require(
        not escaped,
        "run_job records a job's failure instead of raising it",
        observed=lambda: f"run_job let {describe_error(escaped[0][1])} escape for job {escaped[0][0]}",
        hint="catch `Exception`, store it in job.error and set the status to FAILED",
    )
    was: dict[int, JobStatus] = seen["cancel_state"]
    ran_anyway = [
        job_id for job_id, job in jobs.items() if was.get(job_id) is JobStatus.PENDING and work.calls[job.item]
    ]
    chain.require(
        not ran_anyway,
        "a job cancelled while pending never runs",
        observed=lambda: (
            f"job {ran_anyway[0]} was cancelled while pending, and handle({jobs[ran_anyway[0]].item!r}) was called"
        ),
        hint="check job.status before running it: return if it is no longer pending",
    )

    def expected_status(job_id: int, job: Job) -> JobStatus:
        if was.get(job_id) in (JobStatus.PENDING, JobStatus.RUNNING):
            return JobStatus.CANCELLED
        return JobStatus.FAILED if job.item in work.failing else JobStatus.DONE

    wrong = [job_id for job_id, job in jobs.items() if job.status is not expected_status(job_id, job)]
    chain.require(
        not wrong,
        "each job ends with the right status",
        observed=lambda: (
            f"job {wrong[0]} (item {jobs[wrong[0]].item!r}) ended as {jobs[wrong[0]].status.value!r}, "
            f"expected {expected_status(wrong[0], jobs[wrong[0]]).value!r}"
        ),
        hint=_status_hint(expected_status(wrong[0], jobs[wrong[0]])) if wrong else "",
    )
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
    errors = [
        job_id
        for job_id, job in jobs.items()
        if job.status is JobStatus.FAILED and not isinstance(job.error, ItemFailed)
    ]
    chain.require(
        not errors,
        "a failed job holds the exception itself in job.error",
        observed=lambda: f"job {errors[0]}: job.error is {jobs[errors[0]].error!r}",
        hint="store the exception object (`job.error = error`), not str(error)",
    )

    def history(job: Job) -> list[tuple[float | None, str]]:
        return [(time, status.value) for time, status in job.history]

    def expected(job_id: int, job: Job) -> list[tuple[float | None, str]]:
        return expected_history(job, run, start + cancel_at if was.get(job_id) is JobStatus.PENDING else None, start)

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
    swallowed = [
        job_id
        for job_id in cancel
        if was.get(job_id) is JobStatus.RUNNING and job_id in jobs and job_id not in seen["reraised"]
    ]
    chain.require(
        not swallowed,
        "run_job re-raises the cancellation of a running job",
        observed=lambda: f"job {swallowed[0]} was cancelled while running, and run_job returned normally",
        hint="in `except asyncio.CancelledError:` set CANCELLED, then `raise`: a task that swallows its "
        "cancellation keeps its canceller waiting and hides that it was stopped",
    )
    _require_limit(chain, run, workers, len(run.of_kind(Kind.WORK_START)))  # jobs cancelled while pending never ran


# ----------------------------------------------------------- shared links


def _require_ran(chain: Chain, run: VirtualRun[Any], what: str, *, raised_hint: str) -> None:
    """The run returned. An error other than the placeholder's gets ``raised_hint`` (no item fails in
    these scenarios, so an ItemFailed means a call was made with an item that was not given)."""
    if run.outcome == "raised" and not isinstance(run.error, NotImplementedError):
        chain.fail(
            f"{what} runs without raising",
            observed=f"raised {describe_error(run.error)}",
            hint=raised_hint,
        )
    chain.require_finished(run, what)


def _require_limit(
    chain: Chain,
    run: VirtualRun[Any],
    limit: int,
    jobs: int,
    *,
    must_reach: bool = True,
    reach_hint: str = "start the calls concurrently (tasks), not one after another",
) -> None:
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


def _require_no_idle_slot(
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


def _outcome(run: VirtualRun[Any]) -> str:
    if run.outcome == "returned":
        return f"returned {run.value!r:.60}"
    if run.outcome == "raised":
        return f"raised {describe_error(run.error)}"
    return f"did not finish: {run.diagnosis.splitlines()[0]}"


def _describe_future(future: asyncio.Future[Any] | None) -> str:
    if future is None:
        return "was never returned by submit()"
    if not future.done():
        return "is still pending"
    if future.cancelled():
        return "was cancelled"
    if future.exception() is not None:
        return f"holds the exception {future.exception()!r}"
    return f"holds the result {future.result()!r}"


def _status_hint(expected: JobStatus) -> str:
    return {
        JobStatus.DONE: "after handle returns, set the status to DONE",
        JobStatus.FAILED: "when handle raises an Exception, set the status to FAILED",
        JobStatus.CANCELLED: "when CancelledError arrives while running, set CANCELLED and re-raise it",
        JobStatus.RUNNING: "set RUNNING just before awaiting handle",
        JobStatus.PENDING: "the job never left pending",
    }[expected]
