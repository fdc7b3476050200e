"""Document 001's TimeoutManager.run: wait_for, print, re-raise: the caller gets TimeoutError, not a fallback."""

EXPECT = {
    "check": "check_call_with_fallback",
    "property": "returns the fallback when the operation is late",
    "observed": "it raised TimeoutError",
}


async def call_with_fallback(operation, timeout, fallback):
    try:
        return await asyncio.wait_for(operation(), timeout=timeout)
    except asyncio.TimeoutError:
        print(f"Operation timed out after {timeout}s")
        raise
