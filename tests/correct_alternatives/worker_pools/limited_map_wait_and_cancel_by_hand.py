"""limited_map with plain tasks and asyncio.wait(FIRST_EXCEPTION) instead of a TaskGroup: it cancels
the other calls itself, both when one fails (then raises an ExceptionGroup) and when limited_map is
cancelled (then re-raises the cancellation), and waits for them each time."""


async def limited_map(func, items, limit):
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    slots = asyncio.Semaphore(limit)

    async def one(item):
        async with slots:
            return await func(item)

    tasks = [asyncio.create_task(one(item)) for item in items]
    if not tasks:
        return []
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)
        raise
    errors = [task.exception() for task in done if not task.cancelled() and task.exception() is not None]
    if errors:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)
        raise ExceptionGroup("a call of limited_map failed", errors)
    return [task.result() for task in tasks]
