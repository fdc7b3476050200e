"""Calls func once per *distinct* item (a dict of tasks keyed by item, a natural "cache"): the
results look right, but an item given twice is called once, not once per occurrence."""

EXPECT = {
    "check": "check_limited_map",
    "args": {"items": [3, 1, 3, 2, 1, 3], "limit": 2, "durations": (4.0, 0.5, 1.0), "start": 5.5},
    "property": "func is called once per item (an item that repeats, once per occurrence)",
    "observed": "func(1) was called 1 time for 2 occurrences",
    "hint": "do not skip or cache items seen before",
}


async def limited_map(func, items, limit):
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    semaphore = asyncio.Semaphore(limit)

    async def one(item):
        async with semaphore:
            return await func(item)

    items = list(items)
    async with asyncio.TaskGroup() as group:
        tasks = {item: group.create_task(one(item)) for item in dict.fromkeys(items)}
    return [tasks[item].result() for item in items]
