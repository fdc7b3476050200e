"""No check of `limit`: with Semaphore(0) nothing ever runs, and the call hangs."""

EXPECT = {"check": "check_limited_map", "property": "limit=0 is a ValueError", "observed": "did not finish"}


async def limited_map(func, items, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(item):
        async with semaphore:
            return await func(item)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(item)) for item in items]
    return [task.result() for task in tasks]
