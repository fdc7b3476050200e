"""Any TimeoutError gives the fallback, the operation's own connect timeout included."""

EXPECT = {
    "check": "check_call_with_fallback_errors",
    "subject": "call_with_fallback",
    "property": "raising TimeoutError at t=1: the error propagates",
    "observed": "it returned the fallback at t=1",
    "hint": "scope.expired()",
}


async def call_with_fallback(operation, timeout, fallback):
    try:
        return await asyncio.wait_for(operation(), timeout)
    except TimeoutError:
        return fallback
