"""Takes next(delays) with no default: when the policy's delays run out, StopIteration escapes (as a
RuntimeError, out of a coroutine) instead of the last error."""

EXPECT = {
    "check": "check_retry_attempts",
    "subject": "retry",
    "args": {"failures": 3, "delays": (1.0, 2.0)},
    "property": "raises the last error (Transient('failure 3')) when the delays run out",
    "observed": "raised RuntimeError",
    "hint": "next(delays, None)",
}


async def retry(call, policy):
    loop = asyncio.get_running_loop()
    started = loop.time()
    delays = policy.delays()
    for attempt in range(1, policy.attempts + 1):
        try:
            outcome = await call()
        except Exception as error:
            outcome = error
        if not policy.retryable(outcome) or attempt == policy.attempts:
            break
        wait = policy.retry_after(outcome)
        if wait is None:
            wait = next(delays)
        if policy.deadline is not None and loop.time() + wait > started + policy.deadline:
            break
        await asyncio.sleep(wait)
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
