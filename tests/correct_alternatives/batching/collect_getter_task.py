"""collect_batch that waits for each later entry with asyncio.wait() on a getter task of its own,
cancelled in a `finally:` (on the deadline, and when collect_batch itself is cancelled, as abort()
cancels the batch loop while it collects). With the reference's MicroBatcher, so that the class's
checks run on it too (the issue's one rejected correct design, made cancellation-safe as the
statement now asks)."""


async def collect_batch(inbox, batch_size, max_wait):
    loop = asyncio.get_running_loop()
    batch = [await inbox.get()]
    deadline = loop.time() + max_wait
    while len(batch) < batch_size and batch[-1] is not STOP:
        getter = asyncio.ensure_future(inbox.get())
        try:
            done, _ = await asyncio.wait({getter}, timeout=max(0.0, deadline - loop.time()))
        finally:
            getter.cancel()  # no-op if it took an entry; a cancelled get() leaves the entry in the inbox
        if not done:
            break
        batch.append(getter.result())
    return batch


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
        if self._closed:
            raise RuntimeError("submit() after close()")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.add(future)
        self._inbox.put_nowait((item, future))
        try:
            return await future
        finally:
            self._waiting.discard(future)

    async def _batch_loop(self) -> None:
        """Collect batches and deliver each in a task of its own; on STOP, return when all are delivered."""
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

    async def close(self) -> None:
        """Flush the partial batch at once; return when every submitted item has its outcome."""
        if not self._closed:
            self._closed = True
            self._inbox.put_nowait(STOP)
        await self._loop_task

    async def abort(self) -> None:
        """Stop at once: cancel the batch loop (and so its deliveries) and every caller still waiting."""
        self._closed = True
        self._loop_task.cancel()
        await asyncio.wait({self._loop_task})
        for future in self._waiting:
            future.cancel()

    async def __aenter__(self) -> MicroBatcher:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if kind is None:
            await self.close()
        else:  # the block failed: do not wait for the batches
            await self.abort()
