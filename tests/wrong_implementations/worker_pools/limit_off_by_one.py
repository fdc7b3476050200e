"""A hand-made limit with an off-by-one: a call may start while `running <= limit`, so limit + 1
calls run at once."""

EXPECT = {
    "check": "check_limited_map",
    "property": "never more than 4 calls in flight",
    "observed": "peak in-flight was 5, limit 4",
    "hint": "one call too many",
}


async def limited_map(func, items, limit):
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    running = 0
    changed = asyncio.Condition()

    async def one(item):
        nonlocal running
        async with changed:
            await changed.wait_for(lambda: running <= limit)
            running += 1
        try:
            return await func(item)
        finally:
            async with changed:
                running -= 1
                changed.notify_all()

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(item)) for item in items]
    return [task.result() for task in tasks]
