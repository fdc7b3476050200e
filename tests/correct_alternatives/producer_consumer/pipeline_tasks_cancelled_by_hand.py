"""run_pipeline without a TaskGroup: plain tasks and gather, and an `except BaseException:` that, when
run_pipeline is cancelled wherever it waits, cancels every task it started, waits for them, and
re-raises (the cancellation propagates)."""


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
    producers = [
        asyncio.create_task(produce(items), name=f"producer-{number}") for number, items in enumerate(sources, 1)
    ]
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
