"""Chapter 2 probes: limited_map, WorkerPool and TaskManager.run_job on random items, limits and clocks.

Every run is on the virtual clock. As in chapter 1's probes, the k-th handler call started takes
the k-th of the scenario's durations (multiples of 0.25 s), so a correct design's timeline does
not depend on which item or worker goes first; the times at which a block fails or a job is
cancelled fall half a step between call ends (no ties to break). Where a cell's checks make jobs
raise every kind of `Exception` (``every_kind``), so do half its probe's scenarios.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from typing import Any

from coursekit.analysis import peak_in_flight
from coursekit.chapters.producer_consumer.probes import (
    by_call_order,
    cancel_after,
    draw_distinct_items,
    draw_durations,
    draw_failing,
    draw_items,
    draw_size,
    draw_start,
    ended_as,
    error_of,
    every_kind,
    off_grid,
    pairs,
    steps,
    timeline,
)
from coursekit.chapters.worker_pools.checks import BlockFailed
from coursekit.checks import leaf_exceptions
from coursekit.events import Kind
from coursekit.probing import Probe, outcome
from coursekit.virtual_time import VirtualRun, run_virtual
from coursekit.workload import Workload

DEADLINE = 300.0  # simulated seconds after ``start``; every scenario needs far less
WALL_LIMIT = 2.0


def _run(main: Callable[[], Any], scenario: dict[str, Any]) -> VirtualRun[Any]:
    return run_virtual(main, deadline=scenario["start"] + DEADLINE, wall_limit=WALL_LIMIT)


def _work(scenario: dict[str, Any]) -> Workload:
    return by_call_order(
        scenario["durations"], scenario.get("failing", []), every_kind=scenario.get("every_kind", False)
    )


def without(observation: Any, *keys: str) -> Any:
    """``observation`` (a dict) without ``keys``: what a cell's checks do not examine."""
    return {key: value for key, value in observation.items() if key not in keys}


def both(**parts: Probe) -> Probe:
    """A probe made of several: a scenario holds one scenario of each part, the observation one
    observation of each (a part that raises is observed as raising; the others still run)."""
    return Probe(
        lambda rng: {name: part.draw(rng) for name, part in parts.items()},
        lambda names, scenario: {name: part.run(names, scenario[name]) for name, part in parts.items()},
    )


def sometimes(share: float, part: Probe) -> Probe:
    """``part`` in a ``share`` of the draws (a part of :func:`both` that would cost too much in every
    scenario): the rest of the time the scenario is empty, ``{}``, and its observation None."""
    return Probe(
        lambda rng: part.draw(rng) if rng.random() < share else {},
        lambda names, scenario: part.run(names, scenario) if scenario else None,
    )


# -------------------------------------------------------------- limited_map


def draw_limited_map(rng: random.Random, *, ordinary: bool = False) -> dict[str, Any]:
    """Items (``ordinary``: one to 30 distinct items, as the visible check gives; else 0 to 30,
    repeated now and then), a limit, call durations, a limit below 1, and a start time."""
    if ordinary:
        items = draw_distinct_items(rng, rng.choice([1, *[rng.randint(2, 30)] * 4]))
    else:
        items = draw_items(rng, draw_size(rng, 30))
    return {
        "items": items,
        "limit": rng.randint(1, 8),
        "durations": draw_durations(rng) + draw_durations(rng),
        "bad_limit": rng.choice([0, 0, -1, -rng.randint(2, 9)]),
        "start": draw_start(rng),
    }


def observe_limited_map(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """``limited_map`` started at ``start``: what it returned (and its type), each item's calls,
    the calls in flight at every instant, when it returned, tasks it left running; and what it
    does with no items, and with ``bad_limit``."""
    work = _work(scenario)
    items = list(scenario["items"])

    async def main() -> Any:
        await asyncio.sleep(scenario["start"])
        return await names["limited_map"](work, items, scenario["limit"])

    run = _run(main, scenario)
    return {
        **outcome(run),
        "returned_type": type(run.value).__name__,
        "calls": pairs(work.calls),
        **timeline(run),
        "no_items": _edge_call(names, scenario, [], scenario["limit"]),
        "bad_limit": _edge_call(names, scenario, [1, 2], scenario["bad_limit"]),
    }


def observe_limited_map_ordinary(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """As :func:`observe_limited_map`, without the call on no items (the hidden cell grades it)."""
    return without(observe_limited_map(names, scenario), "no_items")


def _edge_call(names: Mapping[str, Any], scenario: dict[str, Any], items: list[Any], limit: int) -> Any:
    """What ``limited_map(func, items, limit)`` gives (on a clock at 0)."""
    run = run_virtual(lambda: names["limited_map"](_work(scenario), items, limit), deadline=10.0, wall_limit=WALL_LIMIT)
    return outcome(run)


def draw_limited_map_failure(rng: random.Random) -> dict[str, Any]:
    size = rng.randint(1, 20)
    return {
        "items": list(range(size)),
        "limit": rng.randint(1, 6),
        "durations": [steps(rng, 1, 8)],
        "failing": [rng.randrange(size)],
        "start": draw_start(rng),
    }


def observe_limited_map_failure(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """``limited_map`` with one failing item: what it raised (and the errors inside a group), and,
    measured from the failure's instant: calls started later, calls cancelled later, when it
    returned; the most calls in flight beyond ``limit``; tasks left running."""
    work = _work(scenario)

    async def main() -> Any:
        await asyncio.sleep(scenario["start"])
        return await names["limited_map"](work, list(scenario["items"]), scenario["limit"])

    run = _run(main, scenario)
    group = run.error if isinstance(run.error, BaseExceptionGroup) else None
    failed = [event.time or 0.0 for event in run.of_kind(Kind.WORK_END) if event["outcome"] == "failed"]
    failed_at = min(failed, default=run.elapsed)
    return {
        **outcome(run),
        "inside": sorted(map(error_of, leaf_exceptions(group))) if group else None,
        "started_after": sum(1 for e in run.of_kind(Kind.WORK_START) if (e.time or 0.0) > failed_at),
        "ended_after": sum(1 for e in run.of_kind(Kind.WORK_END) if (e.time or 0.0) > failed_at),
        "returned_after": run.elapsed - failed_at,
        "over_limit": max(0, peak_in_flight(run.events) - scenario["limit"]),
        "left_running": len(run.leftover),
    }


def draw_limited_map_cancelled(rng: random.Random) -> dict[str, Any]:
    """One to 10 items (repeated now and then), a limit, call durations, a start time, and when to
    cancel limited_map (``cancel_at``, s after the call, half a step off the call ends): before its
    calls can all have ended, while calls run or items wait for a slot."""
    items = draw_items(rng, rng.randint(1, 10))
    limit, durations = rng.randint(1, 6), draw_durations(rng)
    rounds = -(-len(items) // limit)  # some slot runs that many calls, each at least min(durations) long
    return {
        "items": items,
        "limit": limit,
        "durations": durations,
        "cancel_at": off_grid(rng, rounds * min(durations)),
        "start": draw_start(rng),
    }


def observe_limited_map_cancelled(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """``limited_map`` started at ``start``, its task cancelled ``cancel_at`` s later: how it ended,
    and the tasks left running once it had (the statement: it cancels every call it started and lets
    CancelledError propagate)."""
    work = _work(scenario)

    async def main() -> Any:
        await asyncio.sleep(scenario["start"])
        task = asyncio.create_task(names["limited_map"](work, list(scenario["items"]), scenario["limit"]))
        await cancel_after(task, scenario["cancel_at"])
        ended = ended_as(task)
        await asyncio.sleep(0)  # let anything it left behind show itself
        return ended

    run = _run(main, scenario)
    return {**outcome(run), "left_running": len(run.leftover)}


# --------------------------------------------------------------- WorkerPool


def draw_pool(
    rng: random.Random, *, failing: bool = False, maxsize: bool = False, repeats: bool = True
) -> dict[str, Any]:
    """Items (repeated now and then, unless ``repeats`` is False), workers, a queue bound (if
    ``maxsize``), failing items (if ``failing``), call durations and a start time."""
    size = draw_size(rng, 24)
    items = draw_items(rng, size) if repeats else draw_distinct_items(rng, size)
    return {
        "items": items,
        "workers": rng.randint(1, 6),
        "maxsize": rng.choice([0, rng.randint(1, 5), rng.randint(1, 5)]) if maxsize else 0,
        "failing": draw_failing(rng, items) if failing else [],
        "durations": draw_durations(rng) + draw_durations(rng),
        "start": draw_start(rng),
    }


def _future(future: Any) -> Any:
    """A job's future as its caller sees it: pending, cancelled, its result or its exception."""
    if not isinstance(future, asyncio.Future):
        return {"not_a_future": type(future).__name__}
    if not future.done():
        return "pending"
    if future.cancelled():
        return "cancelled"
    error = future.exception()
    return {"raised": error_of(error)} if error is not None else {"result": future.result()}


def _pool_run(
    names: Mapping[str, Any],
    scenario: dict[str, Any],
    *,
    cancel: int | None = None,
    fail_at: float | None = None,
    after: Callable[[Any], Any] | None = None,
) -> dict[str, Any]:
    """Items submitted one after another at ``start`` to a ``WorkerPool``; then the future of job
    ``cancel`` is cancelled, or the block raises ``fail_at`` s later, or it is left normally.
    Observed: when each submit() returned, every future as it stood when the block was left, what
    escaped the block and when, each item's calls, the calls in flight over time, the tasks that
    ran them (how many, how many not named worker-1..N), pool tasks still running or not ended
    cancelled when the block was left, and what ``after(pool)`` gives once the block is left."""
    work = _work(scenario)
    seen: dict[str, Any] = {"submitted": [], "escaped": None}

    async def main() -> None:
        await asyncio.sleep(scenario["start"])
        loop, before = asyncio.get_running_loop(), asyncio.all_tasks()
        pool = names["WorkerPool"](work, workers=scenario["workers"], maxsize=scenario["maxsize"])
        futures, pool_tasks = [], set()
        try:
            async with pool:
                for item in scenario["items"]:
                    futures.append(await pool.submit(item))
                    seen["submitted"].append(loop.time())
                if cancel is not None:
                    futures[cancel].cancel()
                if fail_at is not None:
                    await asyncio.sleep(fail_at)
                    pool_tasks = asyncio.all_tasks() - before
                    raise BlockFailed("the block using the pool failed")
        except BlockFailed as error:
            seen["escaped"] = type(error).__name__
        seen["left"] = loop.time()
        seen["futures"] = [_future(future) for future in futures]
        seen["running"] = sum(1 for task in pool_tasks if not task.done())
        seen["not_cancelled"] = sum(1 for task in pool_tasks if task.done() and not task.cancelled())
        if after is not None:
            seen["after"] = await after(pool)

    run = _run(main, scenario)
    expected = {f"worker-{number}" for number in range(1, scenario["workers"] + 1)}
    ran_in = {str(event.task) for event in run.of_kind(Kind.WORK_START)}
    return {
        **outcome(run),
        **seen,
        "calls": pairs(work.calls),
        **timeline(run),
        "tasks": [len(ran_in), len(ran_in - expected)],
    }


# What each WorkerPool cell's probe leaves out of ``_pool_run``'s observation: what only another
# cell's checks examine (task names, how often each job ran, when submit() returned and how many
# calls ran at once: the results and backpressure cells).
TASKS = ("tasks",)
CONCURRENCY = ("submitted", "in_flight", "peak", "ended", "left")


def observe_pool(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """Jobs submitted, then the block left normally (see ``_pool_run``)."""
    return _pool_run(names, scenario)


def observe_pool_errors(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """As :func:`observe_pool`: what the block gave, what escaped it, and every future."""
    return without(_pool_run(names, scenario), *TASKS, *CONCURRENCY, "calls", "left_running")


def observe_pool_backpressure(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """As :func:`observe_pool`, without the tasks' names and the calls per item."""
    return without(_pool_run(names, scenario), *TASKS, "calls")


async def _after_shutdown(pool: Any) -> dict[str, Any]:
    """What submit() does once the pool has shut down, and what a second shutdown() does
    within a second (how long it took)."""
    found: dict[str, Any] = {}
    try:
        late = await pool.submit("late")
        found["submit"] = {"returned": _future(late)}
        late.cancel()
    except Exception as error:  # noqa: BLE001  (what it raises is the observation)
        found["submit"] = {"raised": type(error).__name__}
    called = asyncio.get_running_loop().time()
    try:
        async with asyncio.timeout(1.0):
            await pool.shutdown()
        found["shutdown_again"] = {"returned_after": asyncio.get_running_loop().time() - called}
    except TimeoutError:
        found["shutdown_again"] = "still waiting 1 s later"
    except Exception as error:  # noqa: BLE001
        found["shutdown_again"] = {"raised": type(error).__name__}
    return found


def observe_pool_shutdown(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """Jobs submitted, the block left normally; then submit() and shutdown() again. Observed: every
    future, how long after the last job's end the block was left, tasks left running, and what
    submit() and shutdown() do then (not when things happened: that is the results cell's)."""
    seen = _pool_run(names, scenario, after=_after_shutdown)
    if "left" in seen:  # the last instant the calls in flight changed is the last call's end
        seen["left_after_last_end"] = seen["left"] - max([scenario["start"], *seen["in_flight"][0]])
    return without(seen, *TASKS, *CONCURRENCY, "calls")


def draw_pool_cancel(rng: random.Random) -> dict[str, Any]:
    """A pool scenario with more jobs than workers; a queued job to cancel in one run, and when
    the block fails in another; in 40% of the draws, a third run whose block's task is cancelled
    ``cancel_block_at`` s after it started (half a step off the call ends; while submit() waits for
    room in a queue of ``block_maxsize``, while jobs run, or after they ended)."""
    scenario = draw_pool(rng, repeats=False)
    scenario["items"] += list(range(100, 102 + scenario["workers"] - len(scenario["items"])))
    rounds = -(-len(scenario["items"]) // scenario["workers"]) * rng.choice([1, 1, 2])
    drawn = {
        **scenario,
        "cancel": rng.randrange(scenario["workers"], len(scenario["items"])),
        "fail_at": rng.choice([0.0, *[off_grid(rng, rounds * min(scenario["durations"]))] * 3]),
    }
    if rng.random() < 0.4:
        drawn["block_maxsize"] = rng.choice([0, 1, 2])
        drawn["cancel_block_at"] = off_grid(rng, rounds * min(scenario["durations"]))
    return drawn


def observe_pool_cancel(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """Two runs: the future of queued job ``cancel`` is cancelled (observed: every future and each
    item's calls); the block raises at ``fail_at`` (observed: when it was left, what escaped, every
    future, pool tasks still running or not cancelled, then what submit() does). With
    ``cancel_block_at``, a third: :func:`_cancelled_block`."""
    cancelled = _pool_run(names, scenario, cancel=scenario["cancel"])
    failed = _pool_run(names, scenario, fail_at=scenario["fail_at"], after=_after_failure)
    seen = {
        "cancelled_job": without(cancelled, *TASKS, *CONCURRENCY, "left_running"),
        "failed_block": without(failed, *TASKS, "submitted", "in_flight", "peak", "ended", "calls"),
    }
    if "cancel_block_at" in scenario:
        seen["cancelled_block"] = _cancelled_block(names, scenario)
    return seen


BLOCK = 1000.0  # s the block of a cancelled-block run waits after its last submit(): it is cancelled before


def _cancelled_block(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """At ``start``, a block submits the items one after another to a ``WorkerPool`` (queue of
    ``block_maxsize``), then waits BLOCK s; its task is cancelled ``cancel_block_at`` s after it
    started. Observed (what the statement fixes for a cancelled block: stop at once): how the block's
    task ended, how long after the cancellation, and then how many futures submit() had returned
    were still pending and how many tasks the block started were still running."""
    work = _work(scenario)
    futures: list[Any] = []

    async def block() -> None:
        pool = names["WorkerPool"](work, workers=scenario["workers"], maxsize=scenario["block_maxsize"])
        async with pool:
            for item in scenario["items"]:
                futures.append(await pool.submit(item))
            await asyncio.sleep(BLOCK)

    async def main() -> Any:
        await asyncio.sleep(scenario["start"])
        before = asyncio.all_tasks()
        task = asyncio.create_task(block(), name="block")
        cancelled_at = await cancel_after(task, scenario["cancel_block_at"])
        return {
            "block": ended_as(task),
            "left_after": asyncio.get_running_loop().time() - cancelled_at,
            "pending": sum(1 for future in futures if not (isinstance(future, asyncio.Future) and future.done())),
            "running": sum(1 for other in asyncio.all_tasks() - before - {task} if not other.done()),
        }

    return outcome(_run(main, scenario))


async def _after_failure(pool: Any) -> Any:
    """What submit() does once the block has failed."""
    try:
        (await pool.submit("late")).cancel()
        return "returned"
    except Exception as error:  # noqa: BLE001
        return {"raised": type(error).__name__}


# ------------------------------------------------------------- TaskManager


def draw_task_manager(rng: random.Random) -> dict[str, Any]:
    """Jobs, and which to cancel when: at once (all pending), during the first calls (one of the
    jobs running then among them), or later but before the work can be over; ids may go past the
    last job."""
    items = draw_items(rng, draw_size(rng, 12))
    workers, durations = rng.randint(1, 5), draw_durations(rng)
    cancel = set(rng.sample(range(1, len(items) + 4), rng.randint(0, 3)))
    when = rng.choice(["at once", *["first calls"] * 3, *["later"] * 2])
    if when == "first calls" and items:
        cancel.add(rng.randint(1, min(workers, len(items))))
    rounds = 1 if when == "first calls" else -(-len(items) // workers)
    return {
        "items": items,
        "workers": workers,
        "failing": draw_failing(rng, items),
        "durations": durations,
        "cancel_at": 0.0 if when == "at once" else off_grid(rng, rounds * min(durations)),
        "cancel": sorted(cancel),
        "start": draw_start(rng),
    }


def observe_task_manager(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """A ``TaskManager`` started at ``start``; ``cancel_at`` s after the items are submitted, jobs
    ``cancel`` are cancelled. Observed per job: status, result, error, history (loop times); what
    cancel() answered and each cancelled job's status just before; the ids of jobs whose run_job
    let the cancellation out, and errors that escaped run_job; each item's calls and the calls
    in flight over time."""
    work = _work(scenario)
    seen: dict[str, Any] = {"reraised": [], "before_cancel": []}

    manager_class: Any = names["TaskManager"]

    class Watched(manager_class):  # type: ignore[misc]  # the learner's class, known only at run time
        async def run_job(self, job: Any) -> None:
            try:
                await super().run_job(job)
            except asyncio.CancelledError:
                seen["reraised"].append(job.id)
                raise

    async def main() -> None:
        await asyncio.sleep(scenario["start"])
        async with Watched(work, workers=scenario["workers"]) as manager:
            seen["manager"] = manager
            for item in scenario["items"]:
                manager.submit(item)
            await asyncio.sleep(scenario["cancel_at"])
            for job_id in scenario["cancel"]:
                job = manager.get(job_id)
                seen["before_cancel"].append([job_id, _status(job.status) if job else None, manager.cancel(job_id)])

    run = _run(main, scenario)
    manager = seen.pop("manager", None)
    seen["reraised"].sort()
    return {
        **outcome(run),
        "jobs": [_job(job) for job in manager.jobs.values()] if manager else None,
        "escaped": sorted([job_id, error_of(error)] for job_id, error in manager.escaped) if manager else None,
        **seen,
        "calls": pairs(work.calls),
        **timeline(run),
    }


def _status(status: Any) -> Any:
    return getattr(status, "value", repr(status))


def _job(job: Any) -> list[Any]:
    error = None if job.error is None else error_of(job.error)
    history = [[time, _status(status)] for time, status in job.history]
    return [job.id, job.item, _status(job.status), job.result, error, history]


LIMITED_MAP = Probe(draw_limited_map, observe_limited_map)
LIMITED_MAP_FAILURE = Probe(draw_limited_map_failure, observe_limited_map_failure)
LIMITED_MAP_CANCELLED = Probe(draw_limited_map_cancelled, observe_limited_map_cancelled)
TASK_MANAGER = Probe(draw_task_manager, observe_task_manager)
# The hidden cell's checks also make the jobs raise every kind of Exception: half its scenarios do.
TASK_MANAGER_EVERY_KIND = Probe(lambda rng: every_kind(rng, draw_task_manager(rng)), observe_task_manager)
PROBES = {
    # the visible cell's checks give distinct items, at least one: its probe does the same
    "ch02-ex1-visible": Probe(lambda rng: draw_limited_map(rng, ordinary=True), observe_limited_map_ordinary),
    "ch02-ex1-hidden": both(
        ok=LIMITED_MAP, failing=LIMITED_MAP_FAILURE, cancelled=sometimes(0.5, LIMITED_MAP_CANCELLED)
    ),
    "ch02-ex2-results": Probe(draw_pool, observe_pool),
    "ch02-ex2-errors": Probe(lambda rng: every_kind(rng, draw_pool(rng, failing=True)), observe_pool_errors),
    "ch02-ex2-shutdown": Probe(lambda rng: draw_pool(rng, repeats=False), observe_pool_shutdown),
    "ch02-ex2-backpressure": Probe(lambda rng: draw_pool(rng, maxsize=True, repeats=False), observe_pool_backpressure),
    "ch02-ex2-cancel": Probe(draw_pool_cancel, observe_pool_cancel),
    "ch02-ex3-visible": TASK_MANAGER,
    "ch02-ex3-hidden": TASK_MANAGER_EVERY_KIND,
}
