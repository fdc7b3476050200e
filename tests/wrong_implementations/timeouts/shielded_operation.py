"""wait_for around shield(): the fallback comes in time, but shield keeps the late operation running."""

EXPECT = {
    "check": "check_call_with_fallback",
    "property": "cancels the operation at the timeout (t=2)",
    "observed": "the operation was cancelled at never",
}


async def call_with_fallback(operation, timeout, fallback):
    task = asyncio.ensure_future(operation())
    try:
        return await asyncio.wait_for(asyncio.shield(task), timeout)
    except TimeoutError:
        return fallback
