"""Starts the consumers without names: asyncio calls them Task-5, Task-6, ..., and a diagnosis
or a picture cannot tell which consumer did what."""

EXPECT = {
    "check": "check_run_pipeline",
    "property": "the consumers are tasks named consumer-1, consumer-2, consumer-3",
    "observed": "were named ['Task-",
    "hint": 'name=f"consumer-{number}"',
}


async def run_pipeline(sources, handle, *, consumers, maxsize):
    queue = TracedQueue(maxsize)
    results, failures = {}, {}

    async def produce(items):
        for item in items:
            await queue.put(item)

    async with asyncio.TaskGroup() as group:
        for _ in range(consumers):
            group.create_task(consumer(queue, handle, results, failures))
        async with asyncio.TaskGroup() as producers:
            for items in sources:
                producers.create_task(produce(items))
        for _ in range(consumers):
            await queue.put(STOP)
    return results, failures
