"""Runs the operation in a task of its own and waits with asyncio.wait: right at the timeout, but when
the caller itself is cancelled, asyncio.wait raises CancelledError and the operation's task runs on."""

EXPECT = {
    "check": "check_call_with_fallback_cancelled",
    "property": "the operation is cancelled with it",
    "observed": "the operation was cancelled at never",
    "hint": "a shielded or forgotten task keeps running",
}


async def call_with_fallback(operation, timeout, fallback):
    task = asyncio.ensure_future(operation())
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if done:
        return task.result()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass  # the operation's cancellation, asked for above
    return fallback
