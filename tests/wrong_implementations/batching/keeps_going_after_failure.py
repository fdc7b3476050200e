"""Workers note a failing chunk's error and go on with the next chunks; the error is raised at the
end, after every other chunk ran."""

EXPECT = {
    "check": "check_process_in_chunks",
    "property": "after a chunk fails, no new chunk starts",
    "observed": "the chunk of 8 failed at t=2 s, then chunk [13, 14] started at t=3 s",
    "hint": "do not catch the error in a worker and go on",
}


async def process_in_chunks(items, handler, *, chunk_size, concurrency):
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    results = [None] * len(chunks)
    errors = []
    todo = iter(range(len(chunks)))

    async def worker():
        for index in todo:
            try:
                results[index] = await handler(chunks[index])
            except Exception as error:
                errors.append(error)

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, len(chunks))):
            group.create_task(worker())
    if errors:
        raise errors[0]
    return [result for chunk_results in results for result in chunk_results]
