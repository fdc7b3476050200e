"""Every chunk at once: gather() has no concurrency limit."""

EXPECT = {
    "check": "check_process_in_chunks",
    "property": "at most 2 chunks are handled at once",
    "observed": "5 handler calls ran at the same time",
}


async def process_in_chunks(items, handler, *, chunk_size, concurrency):
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    return [r for rs in await asyncio.gather(*(handler(chunk) for chunk in chunks)) for r in rs]
