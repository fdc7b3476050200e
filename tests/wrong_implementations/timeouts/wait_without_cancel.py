"""asyncio.wait(..., timeout=) returns at the timeout but leaves the late operation running."""

EXPECT = {
    "check": "check_call_with_fallback",
    "property": "cancels the operation at the timeout (t=2)",
    "observed": "the operation was cancelled at never",
    "hint": "cancel it when the time is up",
}


async def call_with_fallback(operation, timeout, fallback):
    task = asyncio.ensure_future(operation())
    done, _ = await asyncio.wait({task}, timeout=timeout)
    return task.result() if done else fallback
