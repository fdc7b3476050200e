"""Waves of `concurrency` chunks (as in document 004's batches): each wave waits for its slowest call."""

EXPECT = {
    "check": "check_process_in_chunks",
    "property": "a new chunk starts as soon as a call finishes",
    "observed": "at t=1 s only 1 call ran (the limit is 2) while 3 chunks had not started",
}


async def process_in_chunks(items, handler, *, chunk_size, concurrency):
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    results = []
    for start in range(0, len(chunks), concurrency):
        wave = await asyncio.gather(*(handler(chunk) for chunk in chunks[start : start + concurrency]))
        for chunk_results in wave:
            results.extend(chunk_results)
    return results
