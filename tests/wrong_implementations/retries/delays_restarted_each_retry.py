"""Calls policy.delays() at every retry and takes its first value: a fresh iterator each time, so the
wait never grows past the first delay."""

EXPECT = {
    "check": "check_retry_attempts",
    "subject": "retry",
    "property": "calls at t=[3, 4.5, 7]",
    "observed": "the calls started at t=[3, 4.5, 6]",
    "hint": "every wait was the first delay",
}


async def retry(call, policy):
    loop = asyncio.get_running_loop()
    started = loop.time()
    attempt = 0
    while True:
        attempt += 1
        try:
            outcome = await call()
        except Exception as error:
            outcome = error
        if not policy.retryable(outcome) or attempt >= policy.attempts:
            break
        wait = policy.retry_after(outcome)
        if wait is None:
            wait = next(policy.delays(), None)
        if wait is None:
            break
        if policy.deadline is not None and loop.time() + wait > started + policy.deadline:
            break
        await asyncio.sleep(wait)
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
