"""Raises the ExceptionGroup with a message of its own ("all mirrors failed") instead of the
stated "every attempt failed"; a caller matching the message misses it."""

EXPECT = {
    "check": "check_first_success",
    "property": "when every attempt fails, the ExceptionGroup's message is 'every attempt failed'",
    "observed": "its message is 'all mirrors failed'",
}


async def first_success(*attempts):
    if not attempts:
        raise ValueError("no attempts")
    tasks = [asyncio.create_task(attempt()) for attempt in attempts]
    try:
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                if task in done and task.exception() is None:
                    return task.result()
        raise ExceptionGroup("all mirrors failed", [task.exception() for task in tasks])
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
