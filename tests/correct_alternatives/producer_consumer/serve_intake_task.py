"""serve: the intake is a task of its own that reads the source with `async for`; when
stop is set first, the intake is cancelled, and an item it had taken but not yet put
is put before the cancellation goes on (taken means promised)."""


async def serve(source, handle, *, consumers, maxsize, stop):
    queue = TracedQueue(maxsize)
    results, failures = {}, {}

    async def intake():
        async for item in source:
            try:
                await queue.put(item)
            except asyncio.CancelledError:
                await queue.put(item)
                raise

    async with asyncio.TaskGroup() as group:
        for number in range(1, consumers + 1):
            group.create_task(consumer(queue, handle, results, failures), name=f"consumer-{number}")
        feeder = asyncio.create_task(intake(), name="intake")
        stopper = asyncio.create_task(stop.wait(), name="stop-watcher")
        await asyncio.wait({feeder, stopper}, return_when=asyncio.FIRST_COMPLETED)
        feeder.cancel()
        stopper.cancel()
        await asyncio.wait({feeder, stopper})
        for _ in range(consumers):
            await queue.put(STOP)
    return results, failures
