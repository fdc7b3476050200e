"""When the next wait would pass the deadline, sleeps until the deadline anyway, then gives up."""

EXPECT = {
    "check": "check_retry_deadline",
    "subject": "retry",
    "property": "calls at t=[4, 5.5, 8, 12.5] and gives up at once, at t=13",
    "observed": "gave up at t=14",
    "hint": "don't sleep out the time left",
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
        asked = policy.retry_after(outcome)
        wait = asked if asked is not None else next(delays)
        if policy.deadline is not None and loop.time() + wait > started + policy.deadline:
            await asyncio.sleep(started + policy.deadline - loop.time())
            break
        await asyncio.sleep(wait)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
