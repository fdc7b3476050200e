"""Document 002's Go merge, translated: one pump per stream into a shared channel (queue), a
count of finished pumps; nothing stops the pumps when the consumer walks away."""

EXPECT = {
    "check": "check_merge_cancelled",
    "property": "when the consumer breaks out of its loop, merge cancels its tasks and reads no more items",
    "observed": "more item(s) were read from the streams",
}


async def merge(*streams):
    queue = asyncio.Queue()
    done = object()

    async def pump(stream):
        async for item in stream:
            await queue.put(item)
        await queue.put(done)

    pumps = [asyncio.create_task(pump(stream)) for stream in streams]
    running = len(pumps)
    while running:
        item = await queue.get()
        if item is done:
            running -= 1
        else:
            yield item
