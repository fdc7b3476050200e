"""Treats its own cancellation like a timeout: the cancelled caller gets a value and goes on."""

EXPECT = {
    "check": "check_call_with_fallback_cancelled",
    "property": "CancelledError propagates",
    "observed": "the caller's task returned 'fallback'",
    "hint": "a cancellation is not a timeout",
}


async def call_with_fallback(operation, timeout, fallback):
    try:
        async with asyncio.timeout(timeout) as scope:
            return await operation()
    except TimeoutError:
        if scope.expired():
            return fallback
        raise
    except asyncio.CancelledError:  # "whatever stops us, fall back"
        return fallback
