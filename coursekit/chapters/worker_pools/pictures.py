"""Chapter 2's picture runs: limited_map in flight, a worker pool's timeline, a task manager's jobs."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

from coursekit.traces import picture_run
from coursekit.virtual_time import VirtualRun, run_virtual
from coursekit.workload import Workload

LIMIT = 5  # limited_map's limit in its picture


def varied_durations(n: int, seed: int = 2) -> list[float]:
    """``n`` call durations between 0.5 and 4 s, the same for the same seed."""
    rng = random.Random(seed)
    return [rng.choice([0.5, 1.0, 1.0, 2.0, 4.0]) for _ in range(n)]


DURATIONS = varied_durations(24)


@picture_run("limited_map")
def limited_map_run(limited_map: Callable[..., Any]) -> VirtualRun[Any]:
    """24 items of varying length (:data:`DURATIONS`), limit :data:`LIMIT`."""
    work = Workload(lambda i: DURATIONS[i])
    return run_virtual(lambda: limited_map(work, range(len(DURATIONS)), LIMIT))


@picture_run("WorkerPool")
def pool_run(worker_pool: Callable[..., Any]) -> VirtualRun[Any]:
    """12 jobs of varying length, 3 workers, jobs 4 and 9 failing; the value is how many failed."""

    async def main() -> int:
        work = Workload(lambda i: DURATIONS[i], failing={4, 9})
        async with worker_pool(work, workers=3) as pool:
            futures = [await pool.submit(i) for i in range(12)]
        return sum(1 for future in futures if future.exception() is not None)

    return run_virtual(main)


@picture_run("TaskManager")
def manager_run(task_manager: Callable[..., Any]) -> VirtualRun[Any]:
    """Items a..h, 1 s each, two workers, item d failing; at t = 0.5 s job 2 (running) and job 7
    (pending) are cancelled. The value: ``(job id, [(time, status), ...])`` per job."""

    async def main() -> list[tuple[int, list[tuple[float, str]]]]:
        async with task_manager(Workload(1.0, failing={"d"}), workers=2) as manager:
            for item in "abcdefgh":
                manager.submit(item)
            await asyncio.sleep(0.5)
            manager.cancel(2)
            manager.cancel(7)
        return [(job.id, [(time, status.value) for time, status in job.history]) for job in manager.jobs.values()]

    return run_virtual(main)
