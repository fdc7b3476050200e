"""Calls the handler itself with no failure handling: the first failing batch ends the whole loop."""

EXPECT = {
    "check": "check_batch_loop",
    "property": "the batcher runs without raising",
    "observed": "ItemFailed: batch with item 5 failed",
}


async def batch_loop(inbox, handler, *, batch_size, max_wait):
    async def run(batch):
        results = await handler([item for item, _ in batch])
        for (_, future), result in zip(batch, results):
            future.set_result(result)

    async with asyncio.TaskGroup() as deliveries:
        while True:
            batch = await collect_batch(inbox, batch_size, max_wait)
            stopping = batch[-1] is STOP
            if stopping:
                batch.pop()
            if batch:
                deliveries.create_task(run(batch))
            if stopping:
                return
