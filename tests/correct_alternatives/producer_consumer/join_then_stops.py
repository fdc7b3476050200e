"""consumer: try/except/else with the STOP test inside the finally-protected block;
run_pipeline: producers started before the consumers, then queue.join() (every item
handled) before the STOPs, then the consumers are awaited by their TaskGroup."""


async def consumer(queue, handle, results, failures):
    while True:
        item = await queue.get()
        try:
            if item is STOP:
                break
            try:
                value = await handle(item)
            except Exception as error:
                failures[item] = error
            else:
                results[item] = value
        finally:
            queue.task_done()


async def run_pipeline(sources, handle, *, consumers, maxsize):
    queue = TracedQueue(maxsize)
    results, failures = {}, {}

    async def produce(items):
        for item in items:
            await queue.put(item)

    async with asyncio.TaskGroup() as group:
        producers = [group.create_task(produce(items)) for items in sources]
        for number in range(1, consumers + 1):
            group.create_task(consumer(queue, handle, results, failures), name=f"consumer-{number}")
        if producers:
            await asyncio.wait(producers)
        await queue.join()
        for _ in range(consumers):
            await queue.put(STOP)
    return results, failures
