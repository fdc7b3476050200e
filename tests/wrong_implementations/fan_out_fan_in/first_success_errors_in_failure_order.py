"""Collects the errors as the attempts fail: when every attempt fails, the ExceptionGroup lists
them in the order they failed, not in the order of the attempts."""

EXPECT = {
    "check": "check_first_success",
    "property": "when every attempt fails, it raises an ExceptionGroup of every error, in input order",
    "observed": "ItemFailed: item 2 failed, ItemFailed: item 0 failed, ItemFailed: item 1 failed",
    "hint": "not in the order they failed",
}


async def first_success(*attempts):
    if not attempts:
        raise ValueError("no attempts")
    tasks = [asyncio.create_task(attempt()) for attempt in attempts]
    errors = []
    try:
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                if task in done:
                    if task.exception() is None:
                        return task.result()
                    errors.append(task.exception())
        raise ExceptionGroup("every attempt failed", errors)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
