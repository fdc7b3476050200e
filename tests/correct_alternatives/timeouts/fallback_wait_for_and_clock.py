"""wait_for, telling its own timeout from the operation's by the loop's clock."""


async def call_with_fallback(operation, timeout, fallback):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        return await asyncio.wait_for(operation(), timeout)
    except TimeoutError:
        if loop.time() >= deadline:
            return fallback
        raise
