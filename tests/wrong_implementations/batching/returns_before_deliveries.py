"""Fire-and-forget deliveries: on STOP it returns while batches are still with the handler."""

EXPECT = {
    "check": "check_batch_loop",
    "property": "after close() returns, no caller is left waiting",
    "observed": "callers of [6, 7, 8, 9] were still waiting",
}


async def batch_loop(inbox, handler, *, batch_size, max_wait):
    while True:
        batch = await collect_batch(inbox, batch_size, max_wait)
        stopping = batch[-1] is STOP
        if stopping:
            batch.pop()
        if batch:
            asyncio.create_task(deliver(batch, handler))
        if stopping:
            return
