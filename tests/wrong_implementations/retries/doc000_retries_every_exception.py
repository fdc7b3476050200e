"""Documents 000, 001 and 002: `except Exception`, so a Permanent error (a 404, a bug) is retried too."""

EXPECT = {
    "check": "check_retry_not_retryable",
    "subject": "retry",
    "property": "calls 1 time",
    "observed": "it called 2 times",
    "hint": "don't catch every Exception and retry it",
}


async def retry(call, policy):
    delays = policy.delays()
    for attempt in range(policy.attempts):
        try:
            return await call()
        except Exception:
            if attempt == policy.attempts - 1:
                raise
            await asyncio.sleep(next(delays))
