"""Looks at stop only after the next item arrived: it takes one item too many, and drops it."""

EXPECT = {
    "check": "check_serve",
    "property": "serve takes no new item from the source once stop is set",
    "observed": "stop was set at t=6.25 s, but serve took item 12 at t=6.5 s",
}


async def serve(source, handle, *, consumers, maxsize, stop):
    queue = TracedQueue(maxsize)
    results, failures = {}, {}
    async with asyncio.TaskGroup() as group:
        for number in range(1, consumers + 1):
            group.create_task(consumer(queue, handle, results, failures), name=f"consumer-{number}")
        async for item in source:
            if stop.is_set():
                break
            await queue.put(item)
        for _ in range(consumers):
            await queue.put(STOP)
    return results, failures
