"""gather(return_exceptions=True) and skip the failures: the error never reaches the caller."""

EXPECT = {
    "check": "check_process_in_chunks",
    "property": "a failing chunk makes process_in_chunks raise its error",
    "observed": "process_in_chunks returned",
}


async def process_in_chunks(items, handler, *, chunk_size, concurrency):
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    limit = asyncio.Semaphore(concurrency)

    async def one(chunk):
        async with limit:
            return await handler(chunk)

    outcomes = await asyncio.gather(*(one(chunk) for chunk in chunks), return_exceptions=True)
    return [r for rs in outcomes if not isinstance(rs, BaseException) for r in rs]
