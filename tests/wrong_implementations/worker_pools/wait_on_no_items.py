"""Waits for the tasks with asyncio.wait(), which raises ValueError for an empty set: no items
crash instead of giving []."""

EXPECT = {
    "check": "check_limited_map",
    "args": {"items": [], "limit": 3},
    "property": "limited_map runs without raising",
    "observed": "ValueError",
    "hint": "with no items there is nothing to run: return []",
}


async def limited_map(func, items, limit):
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    semaphore = asyncio.Semaphore(limit)

    async def one(item):
        async with semaphore:
            return await func(item)

    tasks = [asyncio.create_task(one(item)) for item in items]
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    failed = [task for task in done if task.exception() is not None]
    if failed:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise ExceptionGroup("limited_map failed", [failed[0].exception()])
    return [task.result() for task in tasks]
