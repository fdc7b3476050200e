"""Marks a stream's end with None in the queue: a stream whose items are None looks ended at its
first item, and its items are lost (a sentinel must be an object no stream can yield)."""

EXPECT = {
    "check": "check_merge",
    "property": "merge yields every item of every stream exactly once",
    "observed": "(2 None item(s) due, 0 yielded)",
    "hint": "None is an item like any other",
    "args": {"streams": ((1.0, 3), (0.25, 2), (0.4, 2)), "nones": (1,), "fail_at": -0.5, "start": 0.0},
}


async def merge(*streams):
    queue = asyncio.Queue()

    async def pump(stream):
        async with contextlib.aclosing(stream):
            try:
                async for item in stream:
                    await queue.put(item)
            except Exception as error:
                await queue.put(error)
                return
        await queue.put(None)

    pumps = [asyncio.create_task(pump(stream)) for stream in streams]
    try:
        running = len(pumps)
        while running:
            item = await queue.get()
            if item is None:
                running -= 1
            elif isinstance(item, Exception):
                raise item
            else:
                yield item
    finally:
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
