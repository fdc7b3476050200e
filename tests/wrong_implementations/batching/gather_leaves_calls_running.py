"""Semaphore + gather(): correct until a chunk fails, then the other calls are left running."""

EXPECT = {
    "check": "check_process_in_chunks",
    "property": "after a chunk fails, no call is left running",
    "observed": "was still",
}


async def process_in_chunks(items, handler, *, chunk_size, concurrency):
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    limit = asyncio.Semaphore(concurrency)

    async def one(chunk):
        async with limit:
            return await handler(chunk)

    return [r for rs in await asyncio.gather(*(one(chunk) for chunk in chunks)) for r in rs]
