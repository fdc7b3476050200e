"""A pump that does not catch its stream's error dies silently; merge waits for its end forever."""

EXPECT = {
    "check": "check_merge",
    "property": "merge finishes when a stream raises",
    "observed": "merge was still waiting for more items",
    "hint": "catch the Exception in the pump",
}


async def merge(*streams):
    queue = asyncio.Queue(maxsize=1)

    async def pump(stream):
        async with contextlib.aclosing(stream):
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
