"""merge without a queue: one pending `__anext__()` task per stream, asyncio.wait(FIRST_COMPLETED)
over them, and a new `__anext__()` task for each stream that produced an item."""


async def merge(*streams):
    async with contextlib.AsyncExitStack() as stack:
        for stream in streams:
            await stack.enter_async_context(contextlib.aclosing(stream))  # closed however merge ends
        waiting = {asyncio.ensure_future(stream.__anext__()): stream for stream in streams}
        try:
            while waiting:
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                for future in [f for f in waiting if f in done]:  # in stream order
                    stream = waiting.pop(future)
                    try:
                        item = future.result()
                    except StopAsyncIteration:
                        continue  # this stream has ended
                    waiting[asyncio.ensure_future(stream.__anext__())] = stream
                    yield item
        finally:
            for future in waiting:
                future.cancel()
            await asyncio.gather(*waiting, return_exceptions=True)
