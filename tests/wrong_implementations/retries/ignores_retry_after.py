"""Waits its own backoff after a 429, whatever Retry-After asked for."""

EXPECT = {
    "check": "check_retry_backoff",
    "subject": "retry",
    "property": "calls at t=[1.25, 2.75, 8.25, 9.75]",
    "observed": "the calls started at t=[1.25, 2.75, 4.25, 5.75]",
    "hint": "policy.retry_after(outcome)",
}


async def retry(call, policy):
    delays = policy.delays()
    for attempt in range(1, policy.attempts + 1):
        try:
            outcome = await call()
        except Exception as error:
            outcome = error
        if not policy.retryable(outcome) or attempt == policy.attempts:
            break
        await asyncio.sleep(next(delays))
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
