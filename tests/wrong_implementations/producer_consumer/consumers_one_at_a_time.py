"""Runs the consumers one after another, so only one item is ever handled at a time."""

EXPECT = {
    "check": "check_run_pipeline",
    "property": "3 consumers handle items at the same time",
    "observed": "at most 1 item(s) were being handled at once",
}


async def run_pipeline(sources, handle, *, consumers, maxsize):
    queue = TracedQueue(maxsize)
    results, failures = {}, {}

    async def produce(items):
        for item in items:
            await queue.put(item)

    async def feed():
        async with asyncio.TaskGroup() as producers:
            for items in sources:
                producers.create_task(produce(items))
        for _ in range(consumers):
            await queue.put(STOP)

    async with asyncio.TaskGroup() as group:
        group.create_task(feed())
        for _ in range(consumers):
            await consumer(queue, handle, results, failures)
    return results, failures
