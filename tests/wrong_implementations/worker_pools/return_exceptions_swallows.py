"""Document 003's `gather(..., return_exceptions=True)`: a failure comes back as a value, unnoticed."""

EXPECT = {
    "check": "check_limited_map_failure",
    "property": "limited_map raises when an item fails",
    "observed": "limited_map returned",
}


async def limited_map(func, items, limit):
    if limit < 1:
        raise ValueError(limit)
    semaphore = asyncio.Semaphore(limit)

    async def one(item):
        async with semaphore:
            return await func(item)

    return list(await asyncio.gather(*(one(item) for item in items), return_exceptions=True))
