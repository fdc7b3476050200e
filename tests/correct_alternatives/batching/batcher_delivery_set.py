"""A MicroBatcher without a TaskGroup: the loop keeps its delivery tasks in a set and waits for
them with asyncio.wait() when it takes STOP; if it is cancelled, it cancels them itself and waits
for them. abort() cancels the waiting callers first and the loop after: the statement's order is
not the only one that works."""


class MicroBatcher(MicroBatcher):  # the given constructor, __aenter__ and __aexit__; four methods of its own
    async def submit(self, item: Any) -> Any:
        if self._closed:
            raise RuntimeError("this batcher is closed")
        future = asyncio.get_running_loop().create_future()
        self._waiting.add(future)
        try:
            await self._inbox.put((item, future))  # unbounded: never waits
            return await future
        finally:
            self._waiting.remove(future)

    async def _batch_loop(self) -> None:
        deliveries: set[asyncio.Task[None]] = set()
        try:
            while True:
                batch = await collect_batch(self._inbox, self.batch_size, self.max_wait)
                entries = [entry for entry in batch if entry is not STOP]
                if entries:
                    task = asyncio.create_task(deliver(entries, self.handler))
                    deliveries.add(task)
                    task.add_done_callback(deliveries.discard)
                if len(entries) < len(batch):  # it ended with STOP
                    break
            while deliveries:
                await asyncio.wait(set(deliveries))
        except asyncio.CancelledError:
            for task in deliveries:
                task.cancel()
            if deliveries:
                await asyncio.wait(set(deliveries))
            raise

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._inbox.put_nowait(STOP)
        await asyncio.shield(self._loop_task)

    async def abort(self) -> None:
        self._closed = True
        for future in list(self._waiting):
            future.cancel()
        self._loop_task.cancel()
        await asyncio.wait({self._loop_task})
