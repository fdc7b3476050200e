"""When every attempt fails, raises only the last error instead of all of them."""

EXPECT = {
    "check": "check_first_success",
    "property": "when every attempt fails, it raises an ExceptionGroup of every error, in input order",
    "observed": "it raised ItemFailed: item 1 failed",
}


async def first_success(*attempts):
    tasks = [asyncio.create_task(attempt()) for attempt in attempts]
    try:
        pending = set(tasks)
        error = None
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task.exception() is None:
                    return task.result()
                error = task.exception()
        raise error
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
