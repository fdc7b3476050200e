"""Treats a second shutdown() as a mistake and raises, where the statement says a second call
only waits (only the method shown differs from a correct pool)."""

EXPECT = {
    "subject": "WorkerPool",
    "check": "check_pool_shutdown",
    "property": "calling shutdown() a second time only waits (here: returns at once)",
    "observed": "it raised RuntimeError: the pool is already shut down",
    "hint": "on a second call, put no more STOPs and raise nothing",
}


class WorkerPool(WorkerPool):
    async def shutdown(self):
        if self._closed:
            raise RuntimeError("the pool is already shut down")
        self._closed = True
        for _ in self._workers:
            await self._queue.put(STOP)
        await asyncio.gather(*self._workers)
