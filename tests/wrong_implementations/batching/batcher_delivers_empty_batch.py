"""On STOP, hands the batch to deliver() even when nothing came before STOP: the handler gets an empty call."""

EXPECT = {
    "subject": "MicroBatcher",
    "check": "check_batcher_flushes",
    "property": "the handler is never called with an empty batch",
    "observed": "another: [] at t=6.5 s",
    "hint": "deliver nothing",
}


class MicroBatcher(MicroBatcher):  # the reference class, with one method written wrong
    async def _batch_loop(self) -> None:
        """Collect batches and deliver each in a task of its own; on STOP, return when all are delivered."""
        async with asyncio.TaskGroup() as deliveries:
            while True:
                batch = await collect_batch(self._inbox, self.batch_size, self.max_wait)
                stopping = batch[-1] is STOP
                if stopping:
                    batch.pop()
                deliveries.create_task(deliver(batch, self.handler))  # also when the batch is empty
                if stopping:
                    return
