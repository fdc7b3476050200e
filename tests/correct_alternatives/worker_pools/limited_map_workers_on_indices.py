"""limited_map as `limit` worker tasks that take (index, item) pairs from a plain list used as
a stack (last in, first out), writing each result into its slot: another order of work, the
same results, and a TaskGroup for the first failure."""


async def limited_map(func, items, limit):
    if limit < 1:
        raise ValueError("limit must be at least 1")
    todo = list(enumerate(items))[::-1]  # pop() takes from the end: first item first
    results = [None] * len(todo)

    async def worker():
        while todo:
            index, item = todo.pop()
            results[index] = await func(item)

    async with asyncio.TaskGroup() as group:
        for _ in range(min(limit, len(todo))):
            group.create_task(worker())
    return results
