"""Returns as soon as it takes STOP and drops the partial batch it was holding."""

EXPECT = {
    "check": "check_batch_loop",
    "property": "after close() returns, no caller is left waiting",
    "observed": "callers of [9] were still waiting",
}


async def batch_loop(inbox, handler, *, batch_size, max_wait):
    async with asyncio.TaskGroup() as deliveries:
        while True:
            batch = await collect_batch(inbox, batch_size, max_wait)
            if batch[-1] is STOP:
                return
            deliveries.create_task(deliver(batch, handler))
