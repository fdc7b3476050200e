"""Gives a late operation a second chance: operation() runs twice, and the caller waits twice."""

EXPECT = {
    "check": "check_call_with_fallback",
    "property": "calls the operation once",
    "observed": "operation() was called 2 times",
}


async def call_with_fallback(operation, timeout, fallback):
    for _ in range(2):
        try:
            async with asyncio.timeout(timeout / 2):
                return await operation()
        except TimeoutError:
            pass
    return fallback
