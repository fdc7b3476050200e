"""Sleeps the whole timeout, then looks: a fast answer is held back until the timeout."""

EXPECT = {
    "check": "check_call_with_fallback",
    "args": {"duration": 1.0},
    "property": "returns as soon as the operation does (t=1)",
    "observed": "it returned at t=2",
    "hint": "don't wait out the whole timeout",
}


async def call_with_fallback(operation, timeout, fallback):
    task = asyncio.ensure_future(operation())
    await asyncio.sleep(timeout)
    if task.done():
        return task.result()
    task.cancel()
    await asyncio.wait({task})
    return fallback
