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
- :class:`MicroBatcher` runs collect -> deliver in one background task until
  ``STOP``, delivering each batch in a task of its own, so a slow handler never
  delays the next batch's flush; no lock is held around the handler. ``close()``
  puts ``STOP``: the partial batch is handed over at once, and ``close()`` returns
  once every delivery has finished, so no caller is left waiting. ``abort()``
  cancels the loop, its deliveries and every caller still waiting.

:func:`process_in_chunks` is the offline counterpart: a known list of items, cut
into consecutive chunks of ``chunk_size``, at most ``concurrency`` handler calls
at once, a new chunk starting as soon as a call finishes, results in input order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from coursekit.chapters.batching.given import BatchHandler, Entry
from coursekit.queues import STOP


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
    for future, result in zip(futures, results, strict=True):
        if not future.done():
            future.set_result(result)


class MicroBatcher:
    """Callers ``await batcher.submit(item)``; the handler sees batches. Use ``async with``.

    A background task, ``_batch_loop``, forms the batches with ``collect_batch`` and hands
    each to ``deliver`` in a task of its own. ``close()`` flushes the partial batch at once
    and returns when every submitted item has its outcome; ``abort()`` stops at once and
    cancels every caller still waiting. Leaving the ``async with`` block closes the
    batcher, or aborts it if the block raised. ``submit()`` after either raises RuntimeError."""

    def __init__(self, handler: BatchHandler, *, batch_size: int, max_wait: float) -> None:
        if batch_size < 1 or max_wait < 0:
            raise ValueError("batch_size must be >= 1 and max_wait >= 0")
        self.handler = handler
        self.batch_size = batch_size
        self.max_wait = max_wait
        self._inbox: asyncio.Queue[Any] = asyncio.Queue()  # entries (item, future), then STOP
        self._waiting: set[asyncio.Future[Any]] = set()  # the futures of callers still waiting
        self._closed = False
        self._loop_task = asyncio.create_task(self._batch_loop(), name="batch-loop")

    async def submit(self, item: Any) -> Any:
        """The result of ``item``, computed in a batch with other callers' items."""
        ### BEGIN SOLUTION
        if self._closed:
            raise RuntimeError("submit() after close()")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.add(future)
        self._inbox.put_nowait((item, future))
        try:
            return await future
        finally:
            self._waiting.discard(future)
        ### END SOLUTION

    async def _batch_loop(self) -> None:
        """Collect batches and deliver each in a task of its own; on STOP, return when all are delivered."""
        ### BEGIN SOLUTION
        async with asyncio.TaskGroup() as deliveries:
            while True:
                batch = await collect_batch(self._inbox, self.batch_size, self.max_wait)
                stopping = batch[-1] is STOP
                if stopping:
                    batch.pop()
                if batch:  # no lock, no await on the handler here: the next batch starts now
                    deliveries.create_task(deliver(batch, self.handler))
                if stopping:  # leaving the TaskGroup (by return, too) waits for every delivery
                    return
        ### END SOLUTION

    async def close(self) -> None:
        """Flush the partial batch at once; return when every submitted item has its outcome."""
        ### BEGIN SOLUTION
        if not self._closed:
            self._closed = True
            self._inbox.put_nowait(STOP)
        await self._loop_task
        ### END SOLUTION

    async def abort(self) -> None:
        """Stop at once: cancel the batch loop (and so its deliveries) and every caller still waiting."""
        ### BEGIN SOLUTION
        self._closed = True
        self._loop_task.cancel()
        await asyncio.wait({self._loop_task})
        for future in self._waiting:
            future.cancel()
        ### END SOLUTION

    async def __aenter__(self) -> MicroBatcher:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if kind is None:
            await self.close()
        else:  # the block failed: do not wait for the batches
            await self.abort()


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
