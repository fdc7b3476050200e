"""Document 002: `for attempt in range(max_retries + 1)` given the number of attempts: one call too many."""

EXPECT = {
    "check": "check_retry_attempts",
    "subject": "retry",
    "args": {"failures": 5},
    "property": "calls 4 times",
    "observed": "it called 5 times",
    "hint": "attempts counts every call, the first included",
}


async def retry(call, policy):
    delays = policy.delays()
    for attempt in range(policy.attempts + 1):
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
