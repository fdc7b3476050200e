"""asyncio.gather without return_exceptions: the first error escapes bare, the others keep running."""

EXPECT = {
    "check": "check_limited_map_failure",
    "property": "the failure surfaces as an ExceptionGroup holding ItemFailed",
    "observed": "limited_map raised ItemFailed: item 4 failed",
}


async def limited_map(func, items, limit):
    if limit < 1:
        raise ValueError(limit)
    semaphore = asyncio.Semaphore(limit)

    async def one(item):
        async with semaphore:
            return await func(item)

    return list(await asyncio.gather(*(one(item) for item in items)))
