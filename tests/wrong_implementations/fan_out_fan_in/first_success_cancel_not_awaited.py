"""Cancels the losers when it has a winner but returns without awaiting them: cancel() only asks,
so they are still running when the caller gets the result."""

EXPECT = {
    "check": "check_first_success",
    "property": "the losers are cancelled, and have ended, when first_success returns",
    "observed": "attempt(s) [0] were still running",
    "hint": "then await them",
}


async def first_success(*attempts):
    if not attempts:
        raise ValueError("no attempts")
    tasks = [asyncio.create_task(attempt()) for attempt in attempts]
    pending = set(tasks)
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task in done and task.exception() is None:
                for loser in pending:
                    loser.cancel()
                return task.result()
    raise ExceptionGroup("every attempt failed", [task.exception() for task in tasks])
