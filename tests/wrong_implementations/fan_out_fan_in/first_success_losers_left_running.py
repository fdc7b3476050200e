"""Returns the first success but leaves the losers running."""

EXPECT = {
    "check": "check_first_success",
    "property": "the losers are cancelled, and have ended, when first_success returns",
    "observed": "attempt(s) [0] were still running",
}


async def first_success(*attempts):
    tasks = [asyncio.create_task(attempt()) for attempt in attempts]
    pending = set(tasks)
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task.exception() is None:
                return task.result()
    raise ExceptionGroup("every attempt failed", [task.exception() for task in tasks])
