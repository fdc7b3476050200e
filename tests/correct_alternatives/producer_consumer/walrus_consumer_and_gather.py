"""consumer: a walrus loop that ends on STOP, marking the STOP done after the loop;
run_pipeline: producers and consumers as plain tasks awaited with asyncio.gather, and
cancelled by hand if the pipeline is cancelled (what a TaskGroup would do)."""


async def consumer(queue, handle, results, failures):
    while (item := await queue.get()) is not STOP:
        try:
            results[item] = await handle(item)
        except Exception as error:
            failures[item] = error
        finally:
            queue.task_done()
    queue.task_done()


async def run_pipeline(sources, handle, *, consumers, maxsize):
    queue = TracedQueue(maxsize)
    results, failures = {}, {}

    async def produce(items):
        for item in items:
            await queue.put(item)

    workers = [
        asyncio.create_task(consumer(queue, handle, results, failures), name=f"consumer-{number}")
        for number in range(1, consumers + 1)
    ]
    producers = [asyncio.create_task(produce(items), name=f"producer-{n}") for n, items in enumerate(sources, 1)]
    try:
        await asyncio.gather(*producers)
        for _ in workers:
            await queue.put(STOP)
        await asyncio.gather(*workers)
    except BaseException:
        for task in [*producers, *workers]:
            task.cancel()
        await asyncio.gather(*producers, *workers, return_exceptions=True)
        raise
    return results, failures
