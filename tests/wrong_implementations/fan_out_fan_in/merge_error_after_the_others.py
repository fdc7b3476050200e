"""Lets a pump die of its stream's error and looks at the pumps' results only once every pump
has finished: the error reaches the reader, but only after the other streams have ended."""

EXPECT = {
    "check": "check_merge",
    "property": "merge raises as soon as the stream fails",
    "observed": "the stream failed 1.2 s after the start, merge raised after 2.2 s",
    "hint": "do not wait for the other streams",
}


async def merge(*streams):
    queue = asyncio.Queue()

    async def pump(stream):
        async with contextlib.aclosing(stream):
            async for item in stream:
                await queue.put(item)

    pumps = [asyncio.create_task(pump(stream)) for stream in streams]
    try:
        while not (all(task.done() for task in pumps) and queue.empty()):
            try:
                yield await asyncio.wait_for(queue.get(), timeout=0.5)
            except TimeoutError:
                continue
        for task in pumps:
            task.result()  # a stream's error
    finally:
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
