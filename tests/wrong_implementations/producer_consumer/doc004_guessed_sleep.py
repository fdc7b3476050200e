"""Document 004: completion signalled after a guessed sleep; here the guess is too short."""

EXPECT = {"check": "check_run_pipeline", "property": "every item is handled", "observed": "items were never handled"}


async def run_pipeline(sources, handle, *, consumers, maxsize):
    queue = TracedQueue(maxsize)
    results, failures = {}, {}

    async def produce(items):
        for item in items:
            await queue.put(item)

    workers = [
        asyncio.create_task(consumer(queue, handle, results, failures), name=f"consumer-{n}")
        for n in range(1, consumers + 1)
    ]
    for items in sources:
        asyncio.create_task(produce(items))
    await asyncio.sleep(sum(len(items) for items in sources) * 0.05 + 1)  # "should be enough"
    for worker in workers:
        worker.cancel()
    return results, failures
