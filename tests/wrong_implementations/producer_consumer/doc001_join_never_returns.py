"""Document 001 whole: one sentinel re-put by each consumer without task_done(), then join()."""

EXPECT = {
    "check": "check_run_pipeline",
    "property": "run_pipeline finishes",
    "observed": "waiting on queue.join(): 4 of 20 items put were never marked task_done()",
}


async def run_pipeline(sources, handle, *, consumers, maxsize):
    queue = TracedQueue(maxsize)
    results, failures = {}, {}

    async def doc_consumer():
        while True:
            item = await queue.get()
            if item is STOP:
                await queue.put(STOP)
                break
            try:
                results[item] = await handle(item)
            except Exception as error:
                failures[item] = error
            queue.task_done()

    workers = [asyncio.create_task(doc_consumer(), name=f"consumer-{n}") for n in range(1, consumers + 1)]
    for items in sources:
        for item in items:
            await queue.put(item)
    await queue.put(STOP)
    await queue.join()
    for worker in workers:
        worker.cancel()
    return results, failures
