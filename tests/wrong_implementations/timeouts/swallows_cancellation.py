"""Treats its own cancellation like a timeout: the cancelled caller gets a value and goes on."""

EXPECT = {
    "check": "check_call_with_fallback_cancelled",
    "property": "CancelledError propagates",
    "observed": "the caller's task returned 'fallback'",
    "hint": "a cancellation is not a timeout",
}


async def call_with_fallback(operation, timeout, fallback):
    try:
        async with asyncio.timeout(timeout):
            return await operation()
    except (TimeoutError, asyncio.CancelledError):
        return fallback
