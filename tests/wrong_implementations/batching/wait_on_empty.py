"""Waits with `asyncio.wait(tasks, return_when=FIRST_EXCEPTION)`: right for every list of items but
the empty one, where asyncio.wait() raises ValueError."""

EXPECT = {
    "check": "check_process_in_chunks",
    "property": "process_in_chunks runs without raising",
    "observed": "raised ValueError: Set of Tasks/Futures is empty.",
    "hint": "with no items there is no chunk",
    "args": {"items": [], "chunk_size": 3, "concurrency": 2, "failing": None},
}


async def process_in_chunks(items, handler, *, chunk_size, concurrency):
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    limit = asyncio.Semaphore(concurrency)

    async def one(chunk):
        async with limit:
            return await handler(chunk)

    tasks = [asyncio.create_task(one(chunk)) for chunk in chunks]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    for task in tasks:
        if task in done and task.exception() is not None:
            raise task.exception()
    return [result for task in tasks for result in task.result()]
