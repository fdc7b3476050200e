"""A Retry-After wait uses up no delay (the statement leaves that open); each call runs in a task of its
own, awaited, so a cancelled caller cancels it; the deadline kept as the instant the first call started."""


async def retry(call, policy):
    loop = asyncio.get_running_loop()
    first_call = loop.time()
    delays = policy.delays()
    for attempt in range(1, policy.attempts + 1):
        task = asyncio.ensure_future(call())
        try:
            outcome = await task
        except asyncio.CancelledError:
            raise
        except Exception as error:
            outcome = error
        if not policy.retryable(outcome) or attempt == policy.attempts:
            break
        wait = policy.retry_after(outcome)
        if wait is None:
            wait = next(delays, None)  # only a backoff wait takes a delay
            if wait is None:
                break
        if policy.deadline is not None and loop.time() + wait - first_call > policy.deadline:
            break
        await asyncio.sleep(wait)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
