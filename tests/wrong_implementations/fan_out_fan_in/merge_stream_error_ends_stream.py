"""Catches a stream's error in its pump and reports it as the end of that stream: merge goes on
with the others and ends normally, and the reader never learns a stream failed."""

EXPECT = {
    "check": "check_merge",
    "property": "when a stream raises, merge raises that error to the reader",
    "observed": "merge ended normally, as if the failed stream had simply ended",
    "hint": "raise it in merge",
}


async def merge(*streams):
    queue = asyncio.Queue()
    ended = object()

    async def pump(stream):
        async with contextlib.aclosing(stream):
            try:
                async for item in stream:
                    await queue.put(item)
            except Exception:
                pass  # "a broken stream is just a finished one"
        await queue.put(ended)

    pumps = [asyncio.create_task(pump(stream)) for stream in streams]
    try:
        running = len(pumps)
        while running:
            item = await queue.get()
            if item is ended:
                running -= 1
            else:
                yield item
    finally:
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
