"""Background jobs with a status (chapter 2), given to learners: the job life cycle and a manager.

A :class:`Job` moves along one life cycle, and :meth:`Job.set_status` refuses any other
change by raising :class:`InvalidTransition`::

    pending ──► running ──► done | failed | cancelled
       └──────► cancelled

:class:`BackgroundJobs` runs submitted jobs on ``workers`` tasks named ``worker-1``, ...
Each worker runs a job in a task of its own (named like the worker), so cancelling a
running job cancels that job and not its worker. What running one job means is left to a
subclass: its ``run_job(job)`` method (chapter 2, exercise 3).
"""

from __future__ import annotations

import asyncio
import enum
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self

from coursekit.events import Kind, emit
from coursekit.queues import STOP, TracedQueue


class JobStatus(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


ALLOWED = {
    JobStatus.PENDING: {JobStatus.RUNNING, JobStatus.CANCELLED},
    JobStatus.RUNNING: {JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED},
}
"""The status changes the life cycle allows, from each status; the other statuses are final."""


class InvalidTransition(Exception):
    """A status change that the job life cycle does not allow (e.g. cancelled -> running)."""


@dataclass(eq=False)
class Job:
    """One submitted job. ``history`` holds ``(loop time, status)`` for every change,
    starting with ``pending`` at submission."""

    id: int
    item: Any
    status: JobStatus = JobStatus.PENDING
    result: Any = None
    error: Exception | None = None
    history: list[tuple[float, JobStatus]] = field(default_factory=list)

    def set_status(self, status: JobStatus) -> None:
        """Move to ``status``, recording the time; :class:`InvalidTransition` if the life cycle forbids it."""
        if status not in ALLOWED.get(self.status, set()):
            raise InvalidTransition(f"job {self.id}: {self.status.value} -> {status.value} is not allowed")
        self.status = status
        self.history.append((asyncio.get_running_loop().time(), status))
        emit(Kind.JOB_STATUS, job=self.id, status=status.value)


class BackgroundJobs:
    """Background jobs with a status you can look up, and cancellation of one job::

        async with TaskManager(handle, workers=2) as manager:   # a subclass
            job = manager.submit(item)      # job.status is pending
            manager.cancel(job.id)          # pending or running -> cancelled
        # leaving the block waited for every job

    A subclass defines ``async def run_job(self, job)``, which runs one job with
    ``self.handle(job.item)`` and records its life. An error that escapes ``run_job`` does
    not kill the worker; it is kept in ``escaped`` as ``(job id, error)``. If the block
    raises, every running job and every worker is cancelled."""

    def __init__(self, handle: Callable[[Any], Awaitable[Any]], *, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.handle = handle
        self.jobs: dict[int, Job] = {}
        self.escaped: list[tuple[int, BaseException]] = []
        self._size = workers
        self._queue: TracedQueue[Any] = TracedQueue(name="jobs")
        self._ids = itertools.count(1)
        self._workers: list[asyncio.Task[None]] = []
        self._running: dict[int, asyncio.Task[None]] = {}
        self._closed = False

    async def run_job(self, job: Job) -> None:
        """Run ``job`` once and record its life (a subclass defines it)."""
        raise NotImplementedError(f"{type(self).__name__} must define run_job(self, job)")

    async def __aenter__(self) -> Self:
        self._workers = [
            asyncio.create_task(self._work(f"worker-{number}"), name=f"worker-{number}")
            for number in range(1, self._size + 1)
        ]
        return self

    def submit(self, item: Any) -> Job:
        """A new pending job for ``item``, with the next id (1, 2, ...)."""
        if self._closed or not self._workers:
            raise RuntimeError("submit() needs a running manager: use it inside `async with`")
        job = Job(next(self._ids), item)
        job.history.append((asyncio.get_running_loop().time(), JobStatus.PENDING))
        self.jobs[job.id] = job
        self._queue.put_nowait(job)
        return job

    def get(self, job_id: int) -> Job | None:
        return self.jobs.get(job_id)

    def cancel(self, job_id: int) -> bool:
        """Cancel a pending or running job; False if it is unknown or already finished."""
        job = self.jobs.get(job_id)
        if job is None:
            return False
        if job.status is JobStatus.PENDING:
            job.set_status(JobStatus.CANCELLED)
            return True
        running = self._running.get(job_id)
        if job.status is JobStatus.RUNNING and running is not None:
            running.cancel()
            return True
        return False

    async def _work(self, name: str) -> None:
        while (job := await self._queue.get()) is not STOP:
            try:
                task = asyncio.create_task(self.run_job(job), name=name)
                self._running[job.id] = task
                await asyncio.wait({task})
                error = None if task.cancelled() else task.exception()
                if error is not None:
                    self.escaped.append((job.id, error))
            finally:
                self._running.pop(job.id, None)
                self._queue.task_done()
        self._queue.task_done()

    async def shutdown(self) -> None:
        """Take no more jobs; return when every submitted job has finished."""
        if not self._closed:
            self._closed = True
            for _ in self._workers:
                self._queue.put_nowait(STOP)
        await asyncio.gather(*self._workers)

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: Any) -> None:
        if exc_type is None:
            await self.shutdown()
            return
        self._closed = True
        for task in [*self._running.values(), *self._workers]:
            task.cancel()
        await asyncio.gather(*self._running.values(), *self._workers, return_exceptions=True)
