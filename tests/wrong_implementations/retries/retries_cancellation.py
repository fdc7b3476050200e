"""`except BaseException`: a cancellation is treated as one more failure, and the calls go on."""

EXPECT = {
    "check": "check_retry_not_retryable",
    "subject": "retry",
    "property": "CancelledError propagates and no call follows",
    "observed": "after 5 call(s)",
    "hint": "never BaseException",
}


async def retry(call, policy):
    delays = policy.delays()
    for attempt in range(1, policy.attempts + 1):
        try:
            outcome = await call()
        except BaseException as error:
            outcome = error
        if not (isinstance(outcome, asyncio.CancelledError) or policy.retryable(outcome)):
            break
        if attempt == policy.attempts:
            break
        try:
            await asyncio.sleep(next(delays))
        except asyncio.CancelledError:
            pass
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
