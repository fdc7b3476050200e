"""first_success with asyncio.as_completed: take finished attempts in the order they finish; on a
success, prefer the earliest attempt in input order among those done at that instant."""


async def first_success(*attempts):
    if not attempts:
        raise ValueError("first_success() needs an attempt")
    tasks = [asyncio.create_task(attempt()) for attempt in attempts]
    try:
        for next_done in asyncio.as_completed(tasks):
            try:
                await next_done
            except Exception:
                continue
            # Attempts that ended at this same instant are done too: input order decides.
            return next(
                task.result() for task in tasks if task.done() and not task.cancelled() and task.exception() is None
            )
        raise ExceptionGroup("every attempt failed", [task.exception() for task in tasks])
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
