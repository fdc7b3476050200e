"""Document 004's summary: one chunk after another, so `concurrency` is never used."""

EXPECT = {
    "check": "check_process_in_chunks",
    "property": "a new chunk starts as soon as a call finishes",
    "observed": "it took 7 s; starting each chunk as soon as a slot frees up takes 4 s",
}


async def process_in_chunks(items, handler, *, chunk_size, concurrency):
    results = []
    for i in range(0, len(items), chunk_size):
        results.extend(await handler(items[i : i + chunk_size]))
    return results
