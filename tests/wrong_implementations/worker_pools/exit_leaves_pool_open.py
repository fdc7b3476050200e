"""On a failing block, stops the workers but never marks the pool closed: a later submit() is
accepted and returns a future no worker will ever settle (only the method shown differs)."""

EXPECT = {
    "subject": "WorkerPool",
    "check": "check_pool_cancel",
    "property": "after the block raised, the pool is closed: submit() raises RuntimeError",
    "observed": "returned a future that no worker will ever settle",
    "hint": "close the pool (self._closed = True) on the error path too",
}


class WorkerPool(WorkerPool):
    async def __aexit__(self, exc_type, *_):
        if exc_type is None:
            await self.shutdown()
            return
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        while not self._queue.empty():
            entry = self._queue.get_nowait()
            if entry is not STOP:
                entry[1].cancel()
