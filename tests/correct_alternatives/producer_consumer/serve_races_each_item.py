"""serve: every wait for the next item is raced against stop with a fresh stop.wait()
task, inside a try/finally that always cleans both up; the loop is `while True`."""


async def serve(source, handle, *, consumers, maxsize, stop):
    queue = TracedQueue(maxsize)
    results, failures = {}, {}
    items = aiter(source)
    async with asyncio.TaskGroup() as group:
        for number in range(1, consumers + 1):
            group.create_task(consumer(queue, handle, results, failures), name=f"consumer-{number}")
        while True:
            getting = asyncio.create_task(anext(items))
            stopping = asyncio.create_task(stop.wait())
            try:
                done, _ = await asyncio.wait({getting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (getting, stopping):
                    if not task.done():
                        task.cancel()
                await asyncio.wait({getting, stopping})
            if getting not in done or getting.cancelled():
                break
            if isinstance(getting.exception(), StopAsyncIteration):
                break
            await queue.put(getting.result())
        for _ in range(consumers):
            await queue.put(STOP)
    return results, failures
