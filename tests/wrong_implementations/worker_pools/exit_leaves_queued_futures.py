"""On a failing block, cancels the workers but forgets the jobs still in the queue: their futures
stay pending for ever (only the method shown differs from a correct pool)."""

EXPECT = {
    "subject": "WorkerPool",
    "check": "check_pool_cancel",
    "property": "every job's future is settled when the pool stops",
    "observed": "were still pending",
    "hint": "cancel the futures of the jobs still in the queue",
}


class WorkerPool(WorkerPool):
    async def __aexit__(self, exc_type, *_):
        if exc_type is None:
            await self.shutdown()
            return
        self._closed = True
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
