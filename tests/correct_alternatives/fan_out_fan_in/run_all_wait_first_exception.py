"""run_all without a TaskGroup: plain tasks, asyncio.wait(FIRST_EXCEPTION), then cancel the rest,
await them, and raise an ExceptionGroup of every failure seen at that instant."""


async def run_all(handle, items):
    tasks = [asyncio.create_task(handle(item)) for item in items]
    if not tasks:
        return []
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()  # a no-op for the finished ones
        await asyncio.gather(*tasks, return_exceptions=True)
    failures = [task.exception() for task in tasks if task in done and task.exception() is not None]
    if failures:
        raise ExceptionGroup("run_all failed", failures)
    return [task.result() for task in tasks]
