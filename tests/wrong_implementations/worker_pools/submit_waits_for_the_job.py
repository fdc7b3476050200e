"""submit() waits until its job has finished before returning the future: jobs run one at a
time, whatever the number of workers (only the method shown differs from a correct pool)."""

EXPECT = {
    "subject": "WorkerPool",
    "check": "check_pool_results",
    "property": "3 calls run at the same time when there is enough work",
    "observed": "peak in-flight was 1, limit 3",
    "hint": "submit() must not wait for its job to start or finish",
}


class WorkerPool(WorkerPool):
    async def submit(self, item):
        if self._closed or not self._workers:
            raise RuntimeError("submit() needs a running pool")
        future = asyncio.get_running_loop().create_future()
        await self._queue.put((item, future))
        await asyncio.wait({future})  # "so that the caller gets a finished job"
        return future
