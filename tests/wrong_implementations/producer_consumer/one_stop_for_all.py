"""One STOP for several consumers: the first takes it, the others wait on get() forever."""

EXPECT = {
    "check": "check_run_pipeline",
    "property": "run_pipeline finishes",
    "observed": "consumer-1 (consumer) was still waiting on queue.get()",
    "hint": "only 1 STOP(s) were put for 3 consumers",
}


async def run_pipeline(sources, handle, *, consumers, maxsize):
    queue = TracedQueue(maxsize)
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
        await queue.put(STOP)
    return results, failures
