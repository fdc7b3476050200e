"""Document 003's second version: a Semaphore plus batches; each batch waits for its slowest member."""

EXPECT = {
    "check": "check_limited_map",
    "property": "a call starts as soon as a slot is free (no batches)",
    "observed": "call(s) ran while",
}


async def limited_map(func, items, limit):
    if limit < 1:
        raise ValueError(limit)
    items = list(items)
    semaphore = asyncio.Semaphore(limit)

    async def one(item):
        async with semaphore:
            return await func(item)

    results = []
    for start in range(0, len(items), limit):
        results += await asyncio.gather(*(one(item) for item in items[start : start + limit]))
    return results
