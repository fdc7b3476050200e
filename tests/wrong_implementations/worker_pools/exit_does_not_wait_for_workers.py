"""On a failing block, cancels the workers and leaves at once without awaiting them: they are
still running (their jobs' futures not yet cancelled) when the error reaches the caller."""

EXPECT = {
    "subject": "WorkerPool",
    "check": "check_pool_cancel",
    "property": "every worker has ended by the time the block is left",
    "observed": "were still running",
    "hint": "cancel() only asks a task to stop",
}


class WorkerPool(WorkerPool):
    async def __aexit__(self, exc_type, *_):
        if exc_type is None:
            await self.shutdown()
            return
        self._closed = True
        for task in self._workers:
            task.cancel()
        while not self._queue.empty():
            entry = self._queue.get_nowait()
            if entry is not STOP:
                entry[1].cancel()
