"""On stop, cancels the consumers instead of letting them drain: queued items are lost."""

EXPECT = {"check": "check_serve", "property": "every item is handled", "observed": "items were never handled"}


async def serve(source, handle, *, consumers, maxsize, stop):
    queue = TracedQueue(maxsize)
    results, failures = {}, {}
    workers = [
        asyncio.create_task(consumer(queue, handle, results, failures), name=f"consumer-{n}")
        for n in range(1, consumers + 1)
    ]
    items = aiter(source)
    stopping = asyncio.create_task(stop.wait())
    while True:
        next_item = asyncio.ensure_future(anext(items))
        await asyncio.wait({next_item, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not next_item.done():
            next_item.cancel()
            break
        await queue.put(next_item.result())
    for worker in workers:
        worker.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    return results, failures
