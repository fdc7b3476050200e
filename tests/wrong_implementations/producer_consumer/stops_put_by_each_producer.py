"""Each producer puts STOPs when its own source is done, instead of waiting for all producers:
the consumers end while the other producers still have items, which then wait forever for room."""

EXPECT = {
    "check": "check_run_pipeline",
    "property": "run_pipeline finishes",
    "observed": "was still waiting in TracedQueue.put()",
    "hint": "put the STOPs only after every producer has finished",
}


async def run_pipeline(sources, handle, *, consumers, maxsize):
    queue = TracedQueue(maxsize)
    results, failures = {}, {}

    async def produce(items):
        for item in items:
            await queue.put(item)
        for _ in range(consumers):
            await queue.put(STOP)  # "I am done"

    async with asyncio.TaskGroup() as group:
        for number in range(1, consumers + 1):
            group.create_task(consumer(queue, handle, results, failures), name=f"consumer-{number}")
        for items in sources:
            group.create_task(produce(items))
    return results, failures
