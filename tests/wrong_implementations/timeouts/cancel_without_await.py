"""Cancels the late operation but returns at once: its cleanup is still running."""

EXPECT = {
    "check": "check_call_with_fallback",
    "property": "returns only after the cancelled operation has cleaned up (t=2.5)",
    "observed": "it returned at t=2, and the operation's cleanup had not ended",
    "hint": "await the operation's task",
}


async def call_with_fallback(operation, timeout, fallback):
    task = asyncio.ensure_future(operation())
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if done:
        return task.result()
    task.cancel()
    return fallback
