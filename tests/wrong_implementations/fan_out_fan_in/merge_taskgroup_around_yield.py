"""Owns the pumps with a TaskGroup around the loop that yields: when the reader closes merge early,
aclose() throws GeneratorExit in at the `yield`, the TaskGroup wraps it in a BaseExceptionGroup,
and closing merge raises it (a TaskGroup must not span a `yield` of an async generator)."""

EXPECT = {
    "check": "check_merge_cancelled",
    "property": "when the consumer breaks out of its loop, closing merge raises nothing",
    "observed": "closing merge raised BaseExceptionGroup containing GeneratorExit",
    "hint": "a TaskGroup around the `yield`",
}

_ENDED = object()


async def merge(*streams):
    queue = asyncio.Queue()

    async def pump(stream):
        async with contextlib.aclosing(stream):
            try:
                async for item in stream:
                    queue.put_nowait((None, item))
            except Exception as error:
                queue.put_nowait((error, None))
                return
        queue.put_nowait((_ENDED, None))

    async with asyncio.TaskGroup() as group:
        pumps = [group.create_task(pump(stream)) for stream in streams]
        try:
            running = len(pumps)
            while running:
                signal, item = await queue.get()
                if signal is _ENDED:
                    running -= 1
                elif signal is not None:
                    raise signal
                else:
                    yield item
        finally:
            for task in pumps:
                task.cancel()
