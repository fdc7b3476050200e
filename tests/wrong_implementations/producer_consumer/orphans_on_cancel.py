"""Plain create_task() with no TaskGroup: cancelling the pipeline leaves its consumers running."""

EXPECT = {
    "check": "check_run_pipeline_cancelled",
    "property": "cancelling run_pipeline also cancels every task it started",
    "observed": "consumer-1 (consumer) was still handling an item",
}


async def run_pipeline(sources, handle, *, consumers, maxsize):
    queue = TracedQueue(maxsize)
    results, failures = {}, {}
    workers = [
        asyncio.create_task(consumer(queue, handle, results, failures), name=f"consumer-{n}")
        for n in range(1, consumers + 1)
    ]

    async def produce(items):
        for item in items:
            await queue.put(item)

    await asyncio.gather(*(produce(items) for items in sources))
    for _ in range(consumers):
        await queue.put(STOP)
    await asyncio.gather(*workers)
    return results, failures
