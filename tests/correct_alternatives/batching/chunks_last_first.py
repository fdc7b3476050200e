"""process_in_chunks that takes the chunks last-first: `concurrency` workers pop chunks off the end
of a list. Each free worker starts the next chunk at once, so there are no waves, and the results
still come back in input order: the statement leaves the order of the calls open."""


async def process_in_chunks(items, handler, *, chunk_size, concurrency):
    chunks = [list(items[start : start + chunk_size]) for start in range(0, len(items), chunk_size)]
    todo = list(enumerate(chunks))  # popped from the end: the last chunk goes first
    results = [None] * len(chunks)

    async def worker():
        while todo:
            index, chunk = todo.pop()
            results[index] = await handler(chunk)

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, len(chunks))):
            group.create_task(worker())
    return [result for chunk_results in results for result in chunk_results]
