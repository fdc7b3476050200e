"""timeout_at(timeout) treats the duration as a point in time: right only when the clock starts at 0."""

EXPECT = {
    "check": "check_call_with_fallback",
    "args": {"start": 3.5},
    "property": "cancels the operation at the timeout (t=5.5)",
    "observed": "the operation was cancelled at t=3.5",
    "hint": "measure the timeout from when call_with_fallback starts",
}


async def call_with_fallback(operation, timeout, fallback):
    try:
        async with asyncio.timeout_at(timeout):
            return await operation()
    except TimeoutError:
        return fallback
