"""Chapter 2 reference solution: concurrency limits, a worker pool, a task manager with job status.

Words used below, exactly:

- A call of ``func``/``handle`` is **in flight** from the moment it starts until it
  returns, raises or is cancelled. A limit of ``n`` means: at every instant at most
  ``n`` calls are in flight (``n`` at once is allowed, ``n + 1`` never).
- "As soon as a slot is free": no batches. When a call ends and items are waiting,
  the next one starts at that same instant of the loop's clock.
- Times are the running event loop's clock (``loop.time()``), virtual seconds
  under :func:`coursekit.virtual_time.run_virtual`.

:func:`limited_map` — every item once, at most ``limit`` in flight, results in input
order. The first exception cancels every call still running or waiting and
surfaces in an ``ExceptionGroup`` (``asyncio.TaskGroup`` semantics); no task is
left running. ``limit < 1`` is a ``ValueError``.

:class:`WorkerPool` — ``workers`` tasks named ``worker-1``... take jobs from one queue.
``await pool.submit(item)`` returns an ``asyncio.Future`` for that job: its result, or
the exception ``handle(item)`` raised. A failing job never stops a worker
(:func:`pool_worker`). ``shutdown()`` (also on leaving ``async with`` normally)
returns once every job submitted before it has finished; a worker that died anyway
makes ``shutdown()`` raise its error instead of hiding it.

:class:`TaskManager` — like the pool, but each job is a :class:`Job` with a status:
``pending`` -> ``running`` -> ``done`` | ``failed`` | ``cancelled``, or
``pending`` -> ``cancelled``. No other change is allowed (:meth:`Job.set_status`
raises :class:`InvalidTransition`). :func:`run_job` makes the changes.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from coursekit.events import emit
from coursekit.queues import STOP, TracedQueue

T = TypeVar("T")
R = TypeVar("R")


# ----------------------------------------------------------------- exercise 1


async def limited_map(func: Callable[[T], Awaitable[R]], items: Iterable[T], limit: int) -> list[R]:
    """``[await func(item) for item in items]`` in input order, with at most ``limit`` calls in flight."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    semaphore = asyncio.Semaphore(limit)

    async def one(item: T) -> R:
        async with semaphore:  # a slot for the whole call; released even if it raises
            return await func(item)

    async with asyncio.TaskGroup() as group:  # first failure cancels the rest
        tasks = [group.create_task(one(item)) for item in items]
    return [task.result() for task in tasks]


# ----------------------------------------------------------------- exercise 2


async def pool_worker(queue: asyncio.Queue, handle: Callable[[Any], Awaitable[Any]]) -> None:
    """Run jobs ``(item, future)`` from ``queue`` until ``STOP``; settle each job's future.

    The future gets ``handle(item)``'s result or the ``Exception`` it raised; the worker
    goes on either way. A job whose future is already done (cancelled by the submitter
    before it started) is skipped without calling ``handle``. If the worker is cancelled
    while running a job, that job's future is cancelled too. Every entry taken,
    ``STOP`` included, gets ``queue.task_done()``."""
    while True:
        entry = await queue.get()
        try:
            if entry is STOP:
                return
            item, future = entry
            if future.done():
                continue
            try:
                result = await handle(item)
            except Exception as error:  # the job failed, not the worker
                if not future.done():
                    future.set_exception(error)
            except asyncio.CancelledError:
                future.cancel()
                raise
            else:
                if not future.done():
                    future.set_result(result)
        finally:
            queue.task_done()


class WorkerPool:
    """A fixed set of workers running submitted jobs; use it with ``async with``::

        async with WorkerPool(handle, workers=3) as pool:
            futures = [await pool.submit(item) for item in items]
        # leaving the block shut the pool down: every job has finished
        results = [future.result() for future in futures]

    ``maxsize`` bounds the job queue (0 = unbounded): ``submit`` waits while it is full.
    ``worker`` is the worker coroutine function (default: :func:`pool_worker`, looked up
    when the pool starts)."""

    def __init__(
        self,
        handle: Callable[[Any], Awaitable[Any]],
        *,
        workers: int,
        maxsize: int = 0,
        worker: Callable[[asyncio.Queue, Callable[[Any], Awaitable[Any]]], Awaitable[None]] | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._handle = handle
        self._size = workers
        self._worker = worker
        self._queue: TracedQueue = TracedQueue(maxsize, name="jobs")
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    async def __aenter__(self) -> WorkerPool:
        worker = self._worker or pool_worker
        self._tasks = [
            asyncio.create_task(worker(self._queue, self._handle), name=f"worker-{number}")
            for number in range(1, self._size + 1)
        ]
        return self

    async def submit(self, item: Any) -> asyncio.Future[Any]:
        """Queue a job for ``item``; its future resolves when a worker has run it."""
        if self._closed or not self._tasks:
            raise RuntimeError("submit() needs a running pool: use it inside `async with WorkerPool(...)`")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._queue.put((item, future))  # waits while the queue is full: backpressure
        return future

    async def shutdown(self) -> None:
        """Take no more jobs; return when every submitted job has finished and every worker ended."""
        if not self._closed:
            self._closed = True
            for _ in self._tasks:
                await self._queue.put(STOP)  # after every job: the queue is first in, first out
        await asyncio.gather(*self._tasks)  # a worker that died re-raises its error here

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: Any) -> None:
        if exc_type is None:
            await self.shutdown()
            return
        # The body failed: stop now. Workers are cancelled; jobs not started are cancelled.
        self._closed = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        while not self._queue.empty():
            entry = self._queue.get_nowait()
            if entry is not STOP:
                entry[1].cancel()


# ----------------------------------------------------------------- exercise 3


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
        """Move to ``status``; :class:`InvalidTransition` if the life cycle forbids it."""
        if status not in ALLOWED.get(self.status, set()):
            raise InvalidTransition(f"job {self.id}: {self.status.value} -> {status.value} is not allowed")
        self.status = status
        self.history.append((asyncio.get_running_loop().time(), status))
        emit("job.status", job=self.id, status=status.value)


async def run_job(job: Job, handle: Callable[[Any], Awaitable[Any]]) -> None:
    """Run ``job`` once and record its life: running, then done (``job.result``), failed
    (``job.error``, the ``Exception`` itself) or cancelled (re-raising ``CancelledError``).

    A job that is no longer pending (cancelled while it waited) is left as it is, and
    ``handle`` is not called."""
    if job.status is not JobStatus.PENDING:
        return
    job.set_status(JobStatus.RUNNING)
    try:
        job.result = await handle(job.item)
    except Exception as error:
        job.error = error
        job.set_status(JobStatus.FAILED)
    except asyncio.CancelledError:
        job.set_status(JobStatus.CANCELLED)
        raise
    else:
        job.set_status(JobStatus.DONE)


class TaskManager:
    """Background jobs with a status you can look up, and cancellation of one job::

        async with TaskManager(handle, workers=2) as manager:
            job = manager.submit(item)      # job.status is pending
            manager.cancel(job.id)          # pending or running -> cancelled
        # leaving the block waited for every job

    Each worker runs a job in a task of its own (same name as the worker), so cancelling a
    running job cancels that job and not the worker. ``runner`` runs one job (default:
    :func:`run_job`, looked up when the manager starts). An error that escapes ``runner``
    does not kill the worker; it is kept in ``escaped`` as ``(job id, error)``."""

    def __init__(
        self,
        handle: Callable[[Any], Awaitable[Any]],
        *,
        workers: int,
        runner: Callable[[Job, Callable[[Any], Awaitable[Any]]], Awaitable[None]] | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._handle = handle
        self._size = workers
        self._runner = runner
        self._queue: TracedQueue = TracedQueue(name="jobs")
        self._ids = itertools.count(1)
        self._workers: list[asyncio.Task[None]] = []
        self._running: dict[int, asyncio.Task[None]] = {}
        self._closed = False
        self.jobs: dict[int, Job] = {}
        self.escaped: list[tuple[int, BaseException]] = []

    async def __aenter__(self) -> TaskManager:
        runner = self._runner or run_job
        self._workers = [
            asyncio.create_task(self._work(runner), name=f"worker-{number}") for number in range(1, self._size + 1)
        ]
        return self

    def submit(self, item: Any) -> Job:
        """A new pending job for ``item``, with the next id (1, 2, ...)."""
        if self._closed or not self._workers:
            raise RuntimeError("submit() needs a running manager: use it inside `async with TaskManager(...)`")
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

    async def _work(self, runner: Callable[[Job, Callable[[Any], Awaitable[Any]]], Awaitable[None]]) -> None:
        name = asyncio.current_task().get_name()  # type: ignore[union-attr]
        while (job := await self._queue.get()) is not STOP:
            try:
                task = asyncio.create_task(runner(job, self._handle), name=name)
                self._running[job.id] = task
                await asyncio.wait({task})
                if not task.cancelled() and task.exception() is not None:
                    self.escaped.append((job.id, task.exception()))  # type: ignore[arg-type]
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
