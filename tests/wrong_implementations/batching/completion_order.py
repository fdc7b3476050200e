"""Appends results as calls finish: a slow first chunk comes back last."""

EXPECT = {
    "check": "check_process_in_chunks",
    "property": "the results come back in input order",
    "observed": "returned [('done', 4), ('done', 5)",
}


async def process_in_chunks(items, handler, *, chunk_size, concurrency):
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    limit = asyncio.Semaphore(concurrency)
    results = []

    async def one(chunk):
        async with limit:
            results.extend(await handler(chunk))

    async with asyncio.TaskGroup() as group:
        for chunk in chunks:
            group.create_task(one(chunk))
    return results
