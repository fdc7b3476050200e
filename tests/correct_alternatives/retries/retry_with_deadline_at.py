"""A for loop over attempts and delays together; the deadline kept as an absolute time."""

import itertools


async def retry(call, policy):
    loop = asyncio.get_running_loop()
    deadline_at = None if policy.deadline is None else loop.time() + policy.deadline
    waits = itertools.chain(policy.delays(), [None])
    for attempt in range(1, policy.attempts + 1):
        try:
            value = await call()
        except Exception as error:
            if not policy.retryable(error) or attempt == policy.attempts:
                raise
            last = error
        else:
            if not policy.retryable(value) or attempt == policy.attempts:
                return value
            last = value
        wait = policy.retry_after(last)
        if wait is None:
            wait = next(waits)
        if wait is None or (deadline_at is not None and loop.time() + wait > deadline_at):
            break
        await asyncio.sleep(wait)
    if isinstance(last, Exception):
        raise last
    return last
