"""WorkerPool whose workers mark every entry task_done() and whose shutdown() first waits for
queue.join() (every queued job finished), then puts the STOPs; a failing block cancels the queued
futures before the workers, and waits for the workers with asyncio.wait."""


class WorkerPool:
    def __init__(self, handle, *, workers, maxsize=0):
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._handle = handle
        self._size = workers
        self._queue = TracedQueue(maxsize, name="jobs")
        self._workers = []
        self._closed = False

    async def __aenter__(self):
        for number in range(1, self._size + 1):
            self._workers.append(asyncio.create_task(self._work(), name=f"worker-{number}"))
        return self

    async def submit(self, item):
        if self._closed or not self._workers:
            raise RuntimeError("the pool is not running")
        future = asyncio.get_running_loop().create_future()
        await self._queue.put((item, future))
        return future

    async def _work(self):
        while True:
            entry = await self._queue.get()
            try:
                if entry is STOP:
                    return
                item, future = entry
                if future.cancelled():
                    continue
                try:
                    value = await self._handle(item)
                except asyncio.CancelledError:
                    future.cancel()
                    raise
                except Exception as error:
                    if not future.done():
                        future.set_exception(error)
                else:
                    if not future.done():
                        future.set_result(value)
            finally:
                self._queue.task_done()

    async def shutdown(self):
        if not self._closed:
            self._closed = True
            await self._queue.join()
            for _ in self._workers:
                await self._queue.put(STOP)
        await asyncio.gather(*self._workers)

    async def __aexit__(self, exc_type, *_):
        if exc_type is None:
            await self.shutdown()
            return None
        self._closed = True
        while not self._queue.empty():
            entry = self._queue.get_nowait()
            if entry is not STOP:
                entry[1].cancel()
        for task in self._workers:
            task.cancel()
        await asyncio.wait(self._workers)
        return None
