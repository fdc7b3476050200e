"""run_pipeline: the last producer to finish puts the STOPs (a count of producers still
running instead of waiting for them all); the consumers are numbered from a list."""


async def consumer(queue, handle, results, failures):
    while True:
        item = await queue.get()
        if item is STOP:
            queue.task_done()
            return
        try:
            results[item] = await handle(item)
        except Exception as error:
            failures[item] = error
        finally:
            queue.task_done()


async def run_pipeline(sources, handle, *, consumers, maxsize):
    queue = TracedQueue(maxsize)
    results, failures = {}, {}
    running = len(sources)

    async def stop_all():
        for _ in range(consumers):
            await queue.put(STOP)

    async def produce(items):
        nonlocal running
        for item in items:
            await queue.put(item)
        running -= 1
        if running == 0:
            await stop_all()

    async with asyncio.TaskGroup() as group:
        names = [f"consumer-{number}" for number in range(1, consumers + 1)]
        for name in names:
            group.create_task(consumer(queue, handle, results, failures), name=name)
        for items in sources:
            group.create_task(produce(items))
        if not sources:
            await stop_all()
    return results, failures
