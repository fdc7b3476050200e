"""limited_map acquires a Semaphore slot *before* creating each task (the task releases it when
its call ends), so at most `limit` tasks exist at once; items start in reverse order."""


async def limited_map(func, items, limit):
    if limit < 1:
        raise ValueError(f"bad limit {limit}")
    slots = asyncio.Semaphore(limit)
    items = list(items)
    tasks = {}

    async def one(item):
        try:
            return await func(item)
        finally:
            slots.release()

    async with asyncio.TaskGroup() as group:
        for index in reversed(range(len(items))):
            await slots.acquire()
            tasks[index] = group.create_task(one(items[index]))
    return [tasks[index].result() for index in range(len(items))]
