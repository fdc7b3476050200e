"""Stops as soon as one stream ends (the FIRST_COMPLETED reflex), losing the other streams' tail."""

EXPECT = {
    "check": "check_merge",
    "property": "merge yields every item of every stream exactly once",
    "observed": "never yielded: ['b2', 'c1']",
}


async def merge(*streams):
    queue = asyncio.Queue(maxsize=1)

    async def pump(stream):
        async for item in stream:
            await queue.put(("item", item))
        await queue.put(("end", None))

    pumps = [asyncio.create_task(pump(stream)) for stream in streams]
    try:
        while True:
            kind, value = await queue.get()
            if kind == "end":
                return
            yield value
    finally:
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
