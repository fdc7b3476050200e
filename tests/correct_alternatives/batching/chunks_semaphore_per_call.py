"""process_in_chunks with one task per chunk, all created at once, and an asyncio.Semaphore around
each handler call (chapter 2's limit), in a TaskGroup: the first failure cancels the rest,
including the tasks still waiting for the semaphore."""


async def process_in_chunks(items, handler, *, chunk_size, concurrency):
    limit = asyncio.Semaphore(concurrency)

    async def one(chunk):
        async with limit:
            return await handler(chunk)

    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(one(list(items[start : start + chunk_size])))
            for start in range(0, len(items), chunk_size)
        ]
    results = []
    for task in tasks:
        results.extend(task.result())
    return results
