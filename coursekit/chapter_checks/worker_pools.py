"""Chapter 2 checks: limited_map, pool_worker (in WorkerPool) and run_job (in TaskManager).

See solutions/worker_pools.py for the semantics. Each ``check_*`` runs the learner's
function on a virtual clock against a :class:`~coursekit.workload.Workload` and walks a
:class:`~coursekit.checks.Chain`: defined -> runs -> terminates -> correct -> respects limits.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

from coursekit.analysis import idle_slots, peak_in_flight
from coursekit.checks import Chain, describe_error, describe_values, leaf_exceptions, learner_facing
from coursekit.virtual_time import VirtualRun, run_virtual
from coursekit.workload import ItemFailed, Workload, find_item_failure
from solutions.worker_pools import InvalidTransition, Job, JobStatus, TaskManager, WorkerPool
from solutions.worker_pools import run_job as reference_run_job

DEADLINE = 300.0  # simulated seconds; every scenario below needs far less
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
) -> None:
    """All items succeed; results in input order; at most ``limit`` in flight, and no idle slot."""
    chain = Chain("limited_map")
    chain.require_async_function(limited_map, "limited_map")
    items = list(items)
    work = Workload(varied(items, durations))
    run = run_virtual(lambda: limited_map(work, items, limit), deadline=DEADLINE)
    _require_ran(chain, run, "limited_map")
    expected = [work.expected(item) for item in items]
    chain.require(
        isinstance(run.value, list),
        "limited_map returns a list",
        observed=f"it returned {run.value!r:.120}",
        hint="return a list of the results",
    )
    chain.require(
        sorted(map(repr, run.value)) == sorted(map(repr, expected)),
        "limited_map returns one result per item",
        observed=lambda: f"returned {len(run.value)} result(s) for {len(items)} items: {describe_values(run.value)}",
        hint="await func(item) once for every item and collect what each call returns",
    )
    chain.require(
        run.value == expected,
        "results are in the order of the items",
        observed=lambda: f"returned {describe_values(run.value)}, expected {describe_values(expected)}",
        hint="results must follow the input order, not the order calls finish in: keep the tasks "
        "in a list (or write into results[index]), then read them in order",
    )
    repeated = sorted((item for item, calls in work.calls.items() if calls > 1), key=repr)
    chain.require(
        not repeated,
        "each item is handled once",
        observed=lambda: f"handled more than once: {describe_values(repeated)}",
        hint="call func(item) exactly once per item",
    )
    chain.require_no_leftover_tasks(run, "limited_map")
    _require_limit(chain, run, limit, len(items))
    finish = greedy_finish([work.duration(item) for item in items], limit)
    gap = idle_slots(run.events, len(items), limit)
    chain.require(
        gap is None,
        "a call starts as soon as a slot is free (no batches)",
        observed=lambda: (
            f"at t={gap[0]:g} s only {gap[1]} call(s) were in flight while {gap[2]} item(s) "
            f"waited (limit {limit}); finished at t={run.elapsed:g} s, "
            f"{finish:g} s was possible"
        ),
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
) -> None:
    """One item fails: limited_map raises an ExceptionGroup and cancels the rest at once."""
    chain = Chain("limited_map")
    chain.require_async_function(limited_map, "limited_map")
    items = list(items)
    work = Workload(duration, failing)
    run = run_virtual(lambda: limited_map(work, items, limit), deadline=DEADLINE)
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
    failed_at = min(e.time for e in run.of_kind("work.end") if e["outcome"] == "failed")
    late = [e for e in run.of_kind("work.start") if e.time > failed_at]
    unfinished = [e for e in run.of_kind("work.end") if e["outcome"] == "cancelled" and e.time != failed_at]
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


# -------------------------------------------------------------- pool_worker


@learner_facing
def check_pool_worker(
    pool_worker: Callable[..., Any],
    *,
    items: Sequence[Hashable] = tuple(range(1, 13)),
    workers: int = 3,
    failing: Iterable[Hashable] = (4, 9),
    durations: Sequence[float] = DURATIONS,
    cancel_before_start: Hashable | None = 12,
) -> None:
    """A WorkerPool running ``pool_worker``: per-job results and errors, workers survive failures."""
    chain = Chain("pool_worker")
    chain.require_async_function(pool_worker, "pool_worker")
    items = list(items)
    work = Workload(varied(items, durations), failing)
    futures: dict[Hashable, asyncio.Future[Any]] = {}

    async def scenario() -> None:
        async with WorkerPool(work, workers=workers, worker=pool_worker) as pool:
            for item in items:
                futures[item] = await pool.submit(item)
            if cancel_before_start is not None:
                futures[cancel_before_start].cancel()

    run = run_virtual(scenario, deadline=DEADLINE)
    failure = find_item_failure(run.error)
    if failure is not None:
        chain.fail(
            "a worker keeps going when a job raises",
            observed=f"a worker died of {failure!r}: shutdown() found it dead and re-raised its error",
            hint="catch `Exception` around `await handle(item)` and put it in the job's future with "
            "future.set_exception(error); the worker goes on (document 004, pitfall 2)",
        )
    chain.require_finished(
        run, "the pool", hang_hint=("each worker returns when it takes STOP; shutdown() waits for every worker")
    )
    unsettled = [item for item, future in futures.items() if not future.done()]
    chain.require(
        not unsettled,
        "every job's future is settled when the pool shuts down",
        observed=lambda: f"futures still pending for items {describe_values(unsettled)}",
        hint="for every job, call future.set_result(...) or future.set_exception(...)",
    )
    skipped = cancel_before_start is not None and work.calls[cancel_before_start] == 0
    chain.require(
        cancel_before_start is None or skipped,
        "a job cancelled before it started never runs",
        observed=f"the future of item {cancel_before_start!r} was cancelled while queued, "
        f"and handle({cancel_before_start!r}) was called anyway",
        hint="before running a job, skip it if future.done() (its submitter cancelled it)",
    )
    ran = [item for item in items if item != cancel_before_start]
    wrong_results = [
        item
        for item in ran
        if item not in work.failing
        and not (
            not futures[item].cancelled()
            and futures[item].exception() is None
            and futures[item].result() == work.expected(item)
        )
    ]
    chain.require(
        not wrong_results,
        "each job's future holds what handle(item) returned",
        observed=lambda: (
            f"the future of item {wrong_results[0]!r} {_describe_future(futures[wrong_results[0]])}, "
            f"expected result {work.expected(wrong_results[0])!r}"
        ),
        hint="future.set_result(await handle(item))",
    )
    wrong_errors = [
        item
        for item in ran
        if item in work.failing
        and not (not futures[item].cancelled() and isinstance(futures[item].exception(), ItemFailed))
    ]
    chain.require(
        not wrong_errors,
        "a failing job's future holds the exception handle raised",
        observed=lambda: f"the future of item {wrong_errors[0]!r} {_describe_future(futures[wrong_errors[0]])}",
        hint="in `except Exception as error:` call future.set_exception(error)",
    )
    repeated = sorted((item for item, calls in work.calls.items() if calls > 1), key=repr)
    chain.require(
        not repeated,
        "each job runs once",
        observed=lambda: f"handled more than once: {describe_values(repeated)}",
        hint="run each job you take from the queue exactly once",
    )
    gets = len(run.of_kind("queue.get"))
    dones = len(run.of_kind("queue.task_done"))
    chain.require(
        gets == dones,
        "every entry taken, STOP included, is marked task_done()",
        observed=f"took {gets} entries from the queue and called task_done() {dones} times",
        hint="call queue.task_done() in a `finally:` block, so that queue.join() works for whoever uses the pool",
    )
    _require_limit(chain, run, workers, len(items) - (cancel_before_start is not None))


@learner_facing
def check_pool_worker_cancelled(pool_worker: Callable[..., Any], *, cancel_at: float = 1.0) -> None:
    """The pool is torn down while jobs run: their futures are cancelled, workers end cancelled."""
    chain = Chain("pool_worker")
    chain.require_async_function(pool_worker, "pool_worker")
    work = Workload(2.0)
    futures: list[asyncio.Future[Any]] = []
    workers: list[asyncio.Task[Any]] = []

    async def scenario() -> None:
        try:
            async with WorkerPool(work, workers=2, worker=pool_worker) as pool:
                workers.extend(pool._tasks)
                for item in range(4):
                    futures.append(await pool.submit(item))
                await asyncio.sleep(cancel_at)
                raise RuntimeError("the block using the pool failed")
        except RuntimeError:
            pass

    run = run_virtual(scenario, deadline=DEADLINE)
    chain.require_finished(run, "the cancellation scenario")
    chain.require(
        all(task.cancelled() for task in workers),
        "a cancelled worker ends as cancelled",
        observed="a worker task did not end as cancelled after task.cancel()",
        hint="never swallow CancelledError: `except Exception` does not catch it; re-raise it after cleaning up",
    )
    pending = [index for index, future in enumerate(futures) if not future.done()]
    chain.require(
        not pending,
        "the job a cancelled worker was running gets a cancelled future",
        observed=lambda: (
            f"the futures of items {describe_values(pending)} were never settled: whoever awaits them waits forever"
        ),
        hint="`except asyncio.CancelledError: future.cancel(); raise`",
    )


# ------------------------------------------------------------------ run_job


def task_manager_scenario(
    runner: Callable[..., Any],
    *,
    items: Sequence[Hashable],
    workers: int,
    failing: Iterable[Hashable],
    duration: float,
    cancel_at: float,
    cancel: Sequence[int],
) -> tuple[VirtualRun[Any], Workload, dict[str, Any]]:
    """Submit ``items`` at t=0 to a TaskManager running ``runner``; cancel job ids ``cancel`` at ``cancel_at``."""
    work = Workload(duration, failing)
    seen: dict[str, Any] = {"jobs": {}, "escaped": [], "cancel_state": {}}

    async def scenario() -> None:
        async with TaskManager(work, workers=workers, runner=runner) as manager:
            seen["jobs"] = manager.jobs
            seen["escaped"] = manager.escaped
            for item in items:
                manager.submit(item)
            await asyncio.sleep(cancel_at)
            for job_id in cancel:
                seen["cancel_state"][job_id] = manager.jobs[job_id].status
                manager.cancel(job_id)

    return run_virtual(scenario, deadline=DEADLINE), work, seen


@learner_facing
def check_run_job(
    run_job: Callable[..., Any],
    *,
    items: Sequence[Hashable] = tuple("abcdefgh"),
    workers: int = 2,
    failing: Iterable[Hashable] = ("d",),
    duration: float = 1.0,
    cancel_at: float = 0.5,
    cancel: Sequence[int] = (2, 7),
) -> None:
    """A TaskManager running ``run_job``; two jobs are cancelled (one running, one pending)."""
    chain = Chain("run_job")
    chain.require_async_function(run_job, "run_job")
    options = dict(items=items, workers=workers, failing=failing, duration=duration, cancel_at=cancel_at, cancel=cancel)
    run, work, seen = task_manager_scenario(run_job, **options)
    chain.require_finished(run, "the task manager")
    jobs: dict[int, Job] = seen["jobs"]
    bad = [(job_id, error) for job_id, error in seen["escaped"] if isinstance(error, InvalidTransition)]
    chain.require(
        not bad,
        "run_job changes a status only along pending → running → done | failed | cancelled",
        observed=lambda: f"job {bad[0][0]}: {bad[0][1]}",
        hint="a job cancelled while it was pending must not run: return at once if its status "
        "is no longer pending (document 004's worker overwrites 'cancelled' with 'running')",
    )
    escaped = [(job_id, error) for job_id, error in seen["escaped"]]
    chain.require(
        not escaped,
        "run_job records a job's failure instead of raising it",
        observed=lambda: f"run_job let {describe_error(escaped[0][1])} escape for job {escaped[0][0]}",
        hint="catch `Exception`, store it in job.error and set the status to FAILED",
    )
    reference, _, expected = task_manager_scenario(reference_run_job, **options)
    expected_jobs: dict[int, Job] = expected["jobs"]
    ran_anyway = [
        job_id
        for job_id, job in jobs.items()
        if expected["cancel_state"].get(job_id) is JobStatus.PENDING and work.calls[job.item] > 0
    ]
    chain.require(
        not ran_anyway,
        "a job cancelled while pending never runs",
        observed=lambda: (
            f"job {ran_anyway[0]} was cancelled while pending, and handle({jobs[ran_anyway[0]].item!r}) was called"
        ),
        hint="check job.status before running it: return if it is no longer pending",
    )
    wrong = [job_id for job_id, job in jobs.items() if job.status is not expected_jobs[job_id].status]
    chain.require(
        not wrong,
        "each job ends with the right status",
        observed=lambda: (
            f"job {wrong[0]} (item {jobs[wrong[0]].item!r}) ended as "
            f"{jobs[wrong[0]].status.value!r}, expected {expected_jobs[wrong[0]].status.value!r}"
        ),
        hint=_first_status_hint(wrong, expected_jobs),
    )
    results = [
        job_id
        for job_id, job in jobs.items()
        if expected_jobs[job_id].status is JobStatus.DONE and job.result != expected_jobs[job_id].result
    ]
    chain.require(
        not results,
        "a done job holds handle's result in job.result",
        observed=lambda: (
            f"job {results[0]}: job.result is {jobs[results[0]].result!r}, "
            f"expected {expected_jobs[results[0]].result!r}"
        ),
        hint="job.result = await handle(job.item)",
    )
    errors = [
        job_id
        for job_id, job in jobs.items()
        if expected_jobs[job_id].status is JobStatus.FAILED and not isinstance(job.error, ItemFailed)
    ]
    chain.require(
        not errors,
        "a failed job holds the exception itself in job.error",
        observed=lambda: f"job {errors[0]}: job.error is {jobs[errors[0]].error!r}",
        hint="store the exception object (`job.error = error`), not str(error)",
    )

    def history(job: Job) -> list[tuple[float, str]]:
        return [(time, status.value) for time, status in job.history]

    late = [job_id for job_id, job in jobs.items() if history(job) != history(expected_jobs[job_id])]
    chain.require(
        not late,
        "each status change happens when the job really changes",
        observed=lambda: f"job {late[0]}: history {history(jobs[late[0]])}, expected {history(expected_jobs[late[0]])}",
        hint="set RUNNING just before awaiting handle, and the end status as soon as it returns",
    )
    _require_limit(chain, run, workers, len(items) - len(cancel))


# ----------------------------------------------------------- shared links


def _require_ran(chain: Chain, run: VirtualRun[Any], what: str) -> None:
    failed_item = find_item_failure(run.error)
    if failed_item is not None:
        chain.fail(
            f"{what} runs without raising",
            observed=f"raised {describe_error(run.error)}",
            hint="no item fails in this scenario",
        )
    chain.require_finished(run, what)


def _require_limit(chain: Chain, run: VirtualRun[Any], limit: int, jobs: int, *, must_reach: bool = True) -> None:
    peak = peak_in_flight(run.events)
    chain.require(
        peak <= limit,
        f"never more than {limit} call{'s' if limit != 1 else ''} in flight",
        observed=f"peak in-flight was {peak}, limit {limit}",
        hint="every call must hold a slot for its whole duration: acquire before the call starts, "
        "release after it ends (`async with semaphore:` around the await)",
    )
    if must_reach:
        reach = min(limit, jobs)
        chain.require(
            peak == reach,
            f"{reach} call{'s' if reach != 1 else ''} run{'s' if reach == 1 else ''} at the same time when there is enough work",
            observed=f"peak in-flight was {peak}, limit {limit}",
            hint="start the calls concurrently (tasks), not one after another",
        )


def _outcome(run: VirtualRun[Any]) -> str:
    if run.outcome == "returned":
        return f"returned {run.value!r:.60}"
    if run.outcome == "raised":
        return f"raised {describe_error(run.error)}"
    return f"did not finish: {run.diagnosis.splitlines()[0]}"


def _describe_future(future: asyncio.Future[Any]) -> str:
    if not future.done():
        return "is still pending"
    if future.cancelled():
        return "was cancelled"
    if future.exception() is not None:
        return f"holds the exception {future.exception()!r}"
    return f"holds the result {future.result()!r}"


def _first_status_hint(wrong: list[int], expected_jobs: dict[int, Job]) -> str:
    return _status_hint(expected_jobs[wrong[0]].status) if wrong else ""


def _status_hint(expected: JobStatus) -> str:
    return {
        JobStatus.DONE: "after handle returns, set the status to DONE",
        JobStatus.FAILED: "when handle raises an Exception, set the status to FAILED",
        JobStatus.CANCELLED: "when CancelledError arrives while running, set CANCELLED and re-raise it",
        JobStatus.RUNNING: "set RUNNING just before awaiting handle",
        JobStatus.PENDING: "the job never left pending",
    }[expected]
