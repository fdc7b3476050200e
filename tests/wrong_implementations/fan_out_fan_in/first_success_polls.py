"""Checks the attempts every 0.75 s instead of waiting for the next one to finish."""

EXPECT = {
    "check": "check_first_success",
    "property": "first_success returns as soon as an attempt succeeds",
    "observed": "it returned after 2.25 s; the first success came after 2 s",
}


async def first_success(*attempts):
    tasks = [asyncio.create_task(attempt()) for attempt in attempts]
    try:
        while True:
            await asyncio.sleep(0.75)
            for task in tasks:
                if task.done() and task.exception() is None:
                    return task.result()
            if all(task.done() for task in tasks):
                raise ExceptionGroup("every attempt failed", [task.exception() for task in tasks])
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
