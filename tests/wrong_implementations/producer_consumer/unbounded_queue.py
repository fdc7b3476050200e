"""Ignores maxsize: an unbounded queue gives no backpressure (document 004, pitfall 1)."""

EXPECT = {
    "check": "check_run_pipeline",
    "property": "the queue is bounded to maxsize=4",
    "observed": "queue maxsize 0 (0 = unbounded)",
}


async def run_pipeline(sources, handle, *, consumers, maxsize):
    queue = TracedQueue()
    results, failures = {}, {}

    async def produce(items):
        for item in items:
            await queue.put(item)

    async with asyncio.TaskGroup() as group:
        for number in range(1, consumers + 1):
            group.create_task(consumer(queue, handle, results, failures), name=f"consumer-{number}")
        async with asyncio.TaskGroup() as producers:
            for items in sources:
                producers.create_task(produce(items))
        for _ in range(consumers):
            await queue.put(STOP)
    return results, failures
