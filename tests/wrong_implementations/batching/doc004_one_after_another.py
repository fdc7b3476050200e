"""Document 004's summary: one chunk after another, so `concurrency` is never used."""

EXPECT = {
    "check": "check_process_in_chunks",
    "property": "a new chunk starts as soon as a call finishes",
    "observed": "at t=0 s only 1 call ran (the limit is 2) while 4 chunks had not started",
}


async def process_in_chunks(items, handler, *, chunk_size, concurrency):
    results = []
    for i in range(0, len(items), chunk_size):
        results.extend(await handler(items[i : i + chunk_size]))
    return results
