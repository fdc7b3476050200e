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
the exception ``handle(item)`` raised. A failing job never stops a worker. At most
``maxsize`` jobs wait to start (0: no bound); ``submit`` waits while that many wait.
``shutdown()`` (also on leaving ``async with`` normally) returns once every job
submitted before it has finished and every worker has ended. If the block raises, the
pool stops at once: workers are cancelled, every unsettled future is cancelled, and
the error propagates.

:class:`TaskManager` — :class:`coursekit.chapters.worker_pools.given.BackgroundJobs` (given) with the one method
the learner writes, ``run_job``: it moves a :class:`~coursekit.chapters.worker_pools.given.Job` along
``pending`` -> ``running`` -> ``done`` | ``failed`` | ``cancelled``.

The learner writes the parts between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
(for :func:`limited_map`, its whole body); the rest of each class is given.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Self, TypeVar

from coursekit.chapters.worker_pools.given import BackgroundJobs, Job, JobStatus
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


class WorkerPool:
    """A fixed set of workers running submitted jobs; use it with ``async with``::

        async with WorkerPool(handle, workers=3) as pool:
            futures = [await pool.submit(item) for item in items]
        # leaving the block shut the pool down: every job has finished
        results = [future.result() for future in futures]

    ``maxsize`` bounds how many jobs may wait to start (0: no bound)."""

    def __init__(self, handle: Callable[[Any], Awaitable[Any]], *, workers: int, maxsize: int = 0) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._handle = handle
        self._size = workers
        self._queue: TracedQueue[Any] = TracedQueue(maxsize, name="jobs")  # (item, future) entries, then STOP
        self._workers: list[asyncio.Task[None]] = []
        self._closed = False

    async def __aenter__(self) -> Self:
        """Start ``workers`` tasks, named ``worker-1``, ``worker-2``, ..., each running :meth:`_work`."""
        ### BEGIN SOLUTION
        self._workers = [
            asyncio.create_task(self._work(), name=f"worker-{number}") for number in range(1, self._size + 1)
        ]
        ### END SOLUTION
        return self

    async def submit(self, item: Any) -> asyncio.Future[Any]:
        """Queue a job for ``item`` and return its future at once, unless ``maxsize`` jobs
        already wait: then wait for room first. RuntimeError after :meth:`shutdown`."""
        ### BEGIN SOLUTION
        if self._closed or not self._workers:
            raise RuntimeError("submit() needs a running pool: use it inside `async with WorkerPool(...)`")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._queue.put((item, future))  # waits while the queue is full: backpressure
        return future
        ### END SOLUTION

    async def _work(self) -> None:
        """One worker: run jobs until told to stop. Settle each job's future with
        ``handle(item)``'s result or the ``Exception`` it raised, and go on either way. Skip a
        job whose future is already done (its submitter cancelled it). Cancelled while
        running a job: cancel that job's future and let the cancellation propagate."""
        ### BEGIN SOLUTION
        while (entry := await self._queue.get()) is not STOP:
            item, future = entry
            if future.done():
                continue
            try:
                result = await self._handle(item)
            except Exception as error:  # the job failed, not the worker
                if not future.done():
                    future.set_exception(error)
            except asyncio.CancelledError:
                future.cancel()
                raise
            else:
                if not future.done():
                    future.set_result(result)
        ### END SOLUTION

    async def shutdown(self) -> None:
        """Take no more jobs; return once every job submitted before has finished and every
        worker has ended (a worker that died re-raises its error here)."""
        ### BEGIN SOLUTION
        if not self._closed:
            self._closed = True
            for _ in self._workers:
                await self._queue.put(STOP)  # after every job: the queue is first in, first out
        await asyncio.gather(*self._workers)
        ### END SOLUTION

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: Any) -> None:
        """The block ended normally: :meth:`shutdown`. It raised: stop at once. Cancel the
        workers (the job each was running gets a cancelled future) and the futures of jobs
        not started, and let the block's error propagate."""
        ### BEGIN SOLUTION
        if exc_type is None:
            await self.shutdown()
            return
        self._closed = True
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        while not self._queue.empty():
            entry = self._queue.get_nowait()
            if entry is not STOP:
                entry[1].cancel()
        ### END SOLUTION


# ----------------------------------------------------------------- exercise 3


class TaskManager(BackgroundJobs):
    """Background jobs with a status (see :class:`~coursekit.chapters.worker_pools.given.BackgroundJobs`): each
    worker calls ``run_job(job)`` for every job it takes, in a task of its own."""

    async def run_job(self, job: Job) -> None:
        """Run ``job`` once with ``self.handle`` and record its life: running, then done
        (``job.result``), failed (``job.error``, the ``Exception`` itself) or cancelled
        (re-raising ``CancelledError``). A job that is no longer pending (cancelled while it
        waited) is left as it is, and ``self.handle`` is not called."""
        ### BEGIN SOLUTION
        if job.status is not JobStatus.PENDING:
            return
        job.set_status(JobStatus.RUNNING)
        try:
            job.result = await self.handle(job.item)
        except Exception as error:
            job.error = error
            job.set_status(JobStatus.FAILED)
        except asyncio.CancelledError:
            job.set_status(JobStatus.CANCELLED)
            raise
        else:
            job.set_status(JobStatus.DONE)
        ### END SOLUTION
