"""Document 004's pitfall 2 (and 003's pool): no try around the job, so one failure kills the worker."""

EXPECT = {
    "check": "check_pool_worker",
    "property": "a worker keeps going when a job raises",
    "observed": "a worker died of ItemFailed('item 4 failed')",
}


async def pool_worker(queue, handle):
    while True:
        entry = await queue.get()
        if entry is STOP:
            queue.task_done()
            return
        item, future = entry
        future.set_result(await handle(item))
        queue.task_done()
