"""Document 001's decorator: delays grow without a limit on the total; policy.deadline is ignored."""

EXPECT = {
    "check": "check_retry_deadline",
    "subject": "retry",
    "property": "starts no call after the deadline (t=14)",
    "observed": "calls started at t=[4, 5.5, 8, 12.5, 21",
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
        asked = policy.retry_after(outcome)
        await asyncio.sleep(asked if asked is not None else next(delays))
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
