"""A task of its own, asyncio.wait with a timeout, then cancel and await; cancelled with its caller."""


async def call_with_fallback(operation, timeout, fallback):
    task = asyncio.ensure_future(operation())
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    except asyncio.CancelledError:
        task.cancel()
        await asyncio.wait({task})
        raise
    if done:
        return task.result()
    task.cancel()
    await asyncio.wait({task})
    if task.cancelled():
        return fallback
    return task.result()  # it finished (or failed) while being cancelled
