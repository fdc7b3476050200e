"""Keeps the first error and raises it at the end: the caller never sees what went wrong last."""

EXPECT = {
    "check": "check_retry_attempts",
    "subject": "retry",
    "args": {"failures": 5},
    "property": "raises the last error (Transient('failure 4')) when the attempts run out",
    "observed": "raised Transient: failure 1",
}


async def retry(call, policy):
    delays = policy.delays()
    first = None
    for attempt in range(1, policy.attempts + 1):
        try:
            return await call()
        except Exception as error:
            if not policy.retryable(error):
                raise
            first = first or error
            if attempt < policy.attempts:
                await asyncio.sleep(next(delays))
    raise first
