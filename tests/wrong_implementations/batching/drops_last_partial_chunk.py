"""Counts the chunks with `len(items) // chunk_size`: the last, shorter chunk is never handled."""

EXPECT = {
    "check": "check_process_in_chunks",
    "property": "the handler gets consecutive chunks of 3 items, each once",
    "observed": "the handler was called with [1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12];",
}


async def process_in_chunks(items, handler, *, chunk_size, concurrency):
    chunks = [items[n * chunk_size : (n + 1) * chunk_size] for n in range(len(items) // chunk_size)]
    limit = asyncio.Semaphore(concurrency)

    async def one(chunk):
        async with limit:
            return await handler(chunk)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(chunk)) for chunk in chunks]
    return [result for task in tasks for result in task.result()]
