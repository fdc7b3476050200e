"""Cancels and awaits its pumps on early exit, but never closes the streams they were reading."""

EXPECT = {
    "check": "check_merge_cancelled",
    "property": "when the consumer breaks out of its loop, every stream is closed before merge returns",
    "observed": "stream(s) a, b were left open",
}


async def merge(*streams):
    queue = asyncio.Queue(maxsize=1)

    async def pump(stream):
        async for item in stream:
            await queue.put(("item", item))
        await queue.put(("end", None))

    pumps = [asyncio.create_task(pump(stream)) for stream in streams]
    try:
        running = len(pumps)
        while running:
            kind, value = await queue.get()
            if kind == "end":
                running -= 1
            else:
                yield value
    finally:
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
