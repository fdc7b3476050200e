"""process_in_chunks without a TaskGroup: a set of running calls, refilled with asyncio.wait(...,
return_when=FIRST_COMPLETED); on the first failure it cancels the others, waits for them and
raises the error itself."""


async def process_in_chunks(items, handler, *, chunk_size, concurrency):
    chunks = [list(items[start : start + chunk_size]) for start in range(0, len(items), chunk_size)]
    results = [None] * len(chunks)
    index_of = {}
    upcoming = iter(range(len(chunks)))
    running = set()

    def start_next():
        index = next(upcoming, None)
        if index is not None:
            task = asyncio.create_task(handler(chunks[index]))
            index_of[task] = index
            running.add(task)

    for _ in range(concurrency):
        start_next()
    try:
        while running:
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                running.discard(task)
                results[index_of[task]] = task.result()  # raises the call's error, if any
                start_next()
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running)
    return [result for chunk_results in results for result in chunk_results]
