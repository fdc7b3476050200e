"""Forgets the limit: every call starts at once (the semaphore is created but never used)."""

EXPECT = {
    "check": "check_limited_map",
    "property": "never more than 4 calls in flight",
    "observed": "peak in-flight was 12, limit 4",
}


async def limited_map(func, items, limit):
    if limit < 1:
        raise ValueError(limit)
    semaphore = asyncio.Semaphore(limit)  # noqa: F841  (the bug: it is never used)
    return list(await asyncio.gather(*(func(item) for item in items)))
