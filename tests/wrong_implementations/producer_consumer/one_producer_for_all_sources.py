"""One producer reads every source, one after the other: a slow or endless first source
holds up all the others (the statement asks for one producer per source)."""

EXPECT = {
    "check": "check_run_pipeline",
    "property": "one producer task per source puts that source's items, in order",
    "observed": "were put by one task",
    "hint": "start one producer task for each source",
}


async def run_pipeline(sources, handle, *, consumers, maxsize):
    queue = TracedQueue(maxsize)
    results, failures = {}, {}

    async def produce():
        for items in sources:
            for item in items:
                await queue.put(item)

    async with asyncio.TaskGroup() as group:
        for number in range(1, consumers + 1):
            group.create_task(consumer(queue, handle, results, failures), name=f"consumer-{number}")
        await group.create_task(produce(), name="producer")
        for _ in range(consumers):
            await queue.put(STOP)
    return results, failures
