"""Chapter 3 reference solution: micro-batching and chunked batch processing.

A *micro-batcher* lets many concurrent callers each submit one item and get one
result, while the handler is called with whole batches. Its parts:

- The **inbox** is an ``asyncio.Queue`` of entries ``(item, future)``: one per
  caller, whose ``future`` will hold that caller's result. :data:`STOP`, put by
  :meth:`MicroBatcher.close`, ends the stream.
- :func:`collect_batch` takes entries from the inbox into one batch. Clock: the
  running loop's ``loop.time()`` (virtual seconds under ``run_virtual``).
  A batch is returned as soon as it holds ``batch_size`` entries, or at time
  ``t_first + max_wait`` where ``t_first`` is when its **first** entry was taken,
  whichever comes first. Entries that arrive before ``t_first + max_wait`` join the
  batch; later ones start the next batch. (An entry arriving at exactly the
  deadline may land in either batch; the checks never test that instant.) There
  is no limit on how long it waits for the first entry. Taking ``STOP`` ends the
  batch at once: it is returned with ``STOP`` as its last element.
- :func:`deliver` calls the handler **once** for one batch and resolves every
  future of that batch: the handler's i-th result goes to the i-th caller; if
  the handler raises an ``Exception``, every caller of that batch (and no other)
  gets that exception; if it returns the wrong number of results, every caller
  of the batch gets a ``ValueError``. Futures already done (a caller that gave
  up) are skipped. It never raises an ``Exception`` itself. If it is cancelled,
  it cancels its batch's pending futures and lets the cancellation propagate.
- :func:`batch_loop` repeats collect -> deliver until ``STOP``, delivering each
  batch in a task of its own, so a slow handler never delays the next batch's
  flush; no lock is held around the handler. On ``STOP`` it flushes the partial
  batch (flush on shutdown) and returns once every delivery has finished, so no
  future is left pending.

:func:`process_in_chunks` is the offline counterpart: a known list of items, cut
into consecutive chunks of ``chunk_size``, at most ``concurrency`` handler calls
at once, a new chunk starting as soon as a call finishes, results in input order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any

from coursekit.events import emit
from coursekit.queues import STOP

Entry = tuple[Any, "asyncio.Future[Any]"]
BatchHandler = Callable[[list[Any]], Awaitable[Sequence[Any]]]


async def collect_batch(inbox: asyncio.Queue, batch_size: int, max_wait: float) -> list[Any]:
    """One batch: until ``batch_size`` entries or ``max_wait`` s after the first, whichever first."""
    batch = [await inbox.get()]  # the first entry: wait as long as it takes
    deadline = asyncio.get_running_loop().time() + max_wait
    while len(batch) < batch_size and batch[-1] is not STOP:
        try:
            async with asyncio.timeout_at(deadline):
                batch.append(await inbox.get())
        except TimeoutError:
            break
    return batch


async def deliver(batch: list[Entry], handler: BatchHandler) -> None:
    """Call ``handler`` once with the batch's items; resolve each entry's future."""
    futures = [future for _, future in batch]
    try:
        results = await handler([item for item, _ in batch])
        if len(results) != len(batch):
            raise ValueError(f"the handler returned {len(results)} results for {len(batch)} items")
    except asyncio.CancelledError:
        for future in futures:
            future.cancel()
        raise
    except Exception as error:  # this batch's callers, and only they, get the error
        for future in futures:
            if not future.done():
                future.set_exception(error)
        return
    for future, result in zip(futures, results):
        if not future.done():
            future.set_result(result)


async def batch_loop(inbox: asyncio.Queue, handler: BatchHandler, *, batch_size: int, max_wait: float) -> None:
    """Collect batches from ``inbox`` and deliver each in its own task, until STOP."""
    async with asyncio.TaskGroup() as deliveries:
        while True:
            batch = await collect_batch(inbox, batch_size, max_wait)
            stopping = batch[-1] is STOP
            if stopping:
                batch.pop()
            if batch:  # no lock, no await on the handler here: the next batch starts now
                deliveries.create_task(deliver(batch, handler))
            if stopping:  # leaving the TaskGroup (by return, too) waits for every delivery
                return


class MicroBatcher:
    """Callers ``await batcher.submit(item)``; the handler sees batches. Use ``async with``.

    ``batch_loop`` is the loop that forms and delivers the batches (the exercises
    plug theirs in). ``close()`` (called on leaving the ``async with``) flushes the
    last partial batch and waits until every submitted item has its result.
    Emits ``batch.submit`` and ``batch.result`` (with ``outcome``) per item."""

    def __init__(
        self,
        handler: BatchHandler,
        *,
        batch_size: int,
        max_wait: float,
        batch_loop: Callable[..., Awaitable[None]] = batch_loop,
    ) -> None:
        if batch_size < 1 or max_wait < 0:
            raise ValueError("batch_size must be >= 1 and max_wait >= 0")
        self._inbox: asyncio.Queue = asyncio.Queue()
        self._loop_task = asyncio.create_task(
            batch_loop(self._inbox, handler, batch_size=batch_size, max_wait=max_wait), name="batch-loop"
        )
        self._closed = False

    async def submit(self, item: Any) -> Any:
        """The result of ``item``, computed in a batch with other callers' items."""
        if self._closed:
            raise RuntimeError("submit() after close()")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        emit("batch.submit", item=item)
        self._inbox.put_nowait((item, future))
        outcome = "cancelled"
        try:
            result = await future
            outcome = "done"
            return result
        except Exception:
            outcome = "failed"
            raise
        finally:
            emit("batch.result", item=item, outcome=outcome)

    async def close(self) -> None:
        """Flush what is pending and wait for the loop to finish."""
        if not self._closed:
            self._closed = True
            self._inbox.put_nowait(STOP)
        await self._loop_task

    async def __aenter__(self) -> MicroBatcher:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if kind is None:
            await self.close()
        else:  # the block failed: do not wait for the batches
            self._loop_task.cancel()
            await asyncio.wait({self._loop_task})


async def process_in_chunks(
    items: Sequence[Any], handler: BatchHandler, *, chunk_size: int, concurrency: int
) -> list[Any]:
    """``handler`` on consecutive chunks of ``items``, at most ``concurrency`` at once; results in order.

    A chunk starts as soon as a running call finishes (no waves). If a call raises,
    the error propagates (in an ExceptionGroup), no further chunk starts, and no
    call is left running."""
    chunks = [list(items[start : start + chunk_size]) for start in range(0, len(items), chunk_size)]
    results: list[Sequence[Any]] = [()] * len(chunks)
    next_chunk = iter(range(len(chunks)))

    async def worker() -> None:
        for index in next_chunk:  # a shared iterator: each chunk goes to exactly one worker
            results[index] = await handler(chunks[index])

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, len(chunks))):
            group.create_task(worker())
    return [result for chunk_results in results for result in chunk_results]
