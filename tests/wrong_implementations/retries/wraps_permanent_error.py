"""Marks an error that is not retryable with an exception of its own (`raise GaveUp(...) from error`), so
that the caller can tell it from retries that ran out: the caller can no longer catch the error the call
raised."""

EXPECT = {
    "check": "check_retry_not_retryable",
    "subject": "retry",
    "property": "raises the Permanent error at once",
    "observed": "raised GaveUp",
    "hint": "re-raise the exception itself",
}


class GaveUp(Exception):
    """The call failed in a way retrying cannot fix."""


async def retry(call, policy):
    loop = asyncio.get_running_loop()
    started = loop.time()
    delays = policy.delays()
    attempt = 0
    while True:
        attempt += 1
        try:
            outcome = await call()
        except Exception as error:
            if not policy.retryable(error):
                raise GaveUp(f"not retryable: {error}") from error
            outcome = error
        if not policy.retryable(outcome) or attempt >= policy.attempts:
            break
        wait = policy.retry_after(outcome)
        if wait is None:
            wait = next(delays, None)
        if wait is None:
            break
        if policy.deadline is not None and loop.time() + wait > started + policy.deadline:
            break
        await asyncio.sleep(wait)
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
