"""submit() hands back the future of a job already submitted for the same item instead of
queueing a new job (a "cache"): an item submitted three times runs once (only the method shown
differs from a correct pool)."""

EXPECT = {
    "subject": "WorkerPool",
    "check": "check_pool_results",
    "args": {"items": ["x", "y", "x", "z", "x"], "workers": 2, "durations": (4.0, 0.5)},
    "property": "each job runs once (an item submitted twice is two jobs)",
    "observed": "handle('x') was called 1 time for 3 jobs",
    "hint": "each submit() puts its own job in the queue, even for an item seen before",
}


class WorkerPool(WorkerPool):
    async def submit(self, item):
        if self._closed or not self._workers:
            raise RuntimeError("submit() needs a running pool")
        known = getattr(self, "_known", None)
        if known is None:
            known = self._known = {}
        if item not in known:
            known[item] = asyncio.get_running_loop().create_future()
            await self._queue.put((item, known[item]))
        return known[item]
