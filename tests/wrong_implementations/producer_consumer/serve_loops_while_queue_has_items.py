"""Feeds the queue only "while there is work in it": the queue starts empty, so serve takes
nothing from the source and returns empty results at once."""

EXPECT = {
    "check": "check_serve",
    "property": "serve keeps taking items from the source until stop is set",
    "observed": "serve had taken 0 items",
}


async def serve(source, handle, *, consumers, maxsize, stop):
    queue = TracedQueue(maxsize)
    results, failures = {}, {}
    items = aiter(source)
    async with asyncio.TaskGroup() as group:
        for number in range(1, consumers + 1):
            group.create_task(consumer(queue, handle, results, failures), name=f"consumer-{number}")
        while not stop.is_set() and not queue.empty():
            await queue.put(await anext(items))
        for _ in range(consumers):
            await queue.put(STOP)
    return results, failures
