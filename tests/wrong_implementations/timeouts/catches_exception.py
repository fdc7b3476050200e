"""Every error becomes the fallback: a failing operation looks like a slow one."""

EXPECT = {
    "check": "check_call_with_fallback_errors",
    "subject": "call_with_fallback",
    "property": "raising OperationFailed at t=1: the error propagates",
    "observed": "it returned the fallback at t=1",
    "hint": "an error is not a timeout",
}


async def call_with_fallback(operation, timeout, fallback):
    try:
        async with asyncio.timeout(timeout):
            return await operation()
    except Exception:
        return fallback
