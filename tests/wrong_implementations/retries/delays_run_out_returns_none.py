"""Gives up on the deadline and the attempts properly, but breaks out of the loop when the delays
run out and falls off the end: the caller gets None instead of the last error."""

EXPECT = {
    "check": "check_retry_attempts",
    "subject": "retry",
    "args": {"failures": 3, "delays": (1.0, 2.0)},
    "property": "raises the last error (Transient('failure 3')) when the delays run out",
    "observed": "returned None",
    "hint": "don't return",
}


async def retry(call, policy):
    loop = asyncio.get_running_loop()
    started = loop.time()
    waits = policy.delays()
    attempt = 0
    while attempt < policy.attempts:
        attempt += 1
        try:
            outcome = await call()
        except Exception as error:
            if not policy.retryable(error) or attempt == policy.attempts:
                raise
            outcome = error
        else:
            if not policy.retryable(outcome) or attempt == policy.attempts:
                return outcome
        wait = policy.retry_after(outcome)
        if wait is None:
            wait = next(waits, None)
            if wait is None:
                break  # no delay left
        if policy.deadline is not None and loop.time() + wait > started + policy.deadline:
            if isinstance(outcome, Exception):
                raise outcome
            return outcome
        await asyncio.sleep(wait)
