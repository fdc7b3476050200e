"""Deliveries are loose tasks kept in a set; abort() cancels
the loop and the waiting callers but not the deliveries, which keep running."""

EXPECT = {
    "subject": "MicroBatcher",
    "check": "check_batcher_close",
    "property": "abort() cancels the handler calls in progress",
    "observed": "the handler call for [1, 2, 3] went on until t=1.2 s",
}


class MicroBatcher(MicroBatcher):  # the reference class, with one method written wrong
    async def _batch_loop(self) -> None:
        """Collect batches and deliver each in a task of its own; on STOP, return when all are delivered."""
        running = set()
        while True:
            batch = await collect_batch(self._inbox, self.batch_size, self.max_wait)
            stopping = batch[-1] is STOP
            if stopping:
                batch.pop()
            if batch:
                task = asyncio.create_task(deliver(batch, self.handler))
                running.add(task)
                task.add_done_callback(running.discard)
            if stopping:
                if running:
                    await asyncio.wait(running)
                return
