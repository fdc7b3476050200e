"""Forgets to take STOP off the last batch: deliver() cannot unpack it, the loop ends
with a TypeError, and close() hands nothing over."""

EXPECT = {
    "subject": "MicroBatcher",
    "check": "check_batcher_close",
    "property": "close() hands the open batch to the handler at once",
    "observed": "close() was called at t=1.7 s with [4, 5] waiting for their batch",
    "hint": "(without STOP)",
}


class MicroBatcher(MicroBatcher):  # the reference class, with one method written wrong
    async def _batch_loop(self) -> None:
        """Collect batches and deliver each in a task of its own; on STOP, return when all are delivered."""
        async with asyncio.TaskGroup() as deliveries:
            while True:
                batch = await collect_batch(self._inbox, self.batch_size, self.max_wait)
                deliveries.create_task(deliver(batch, self.handler))
                if batch[-1] is STOP:
                    return
