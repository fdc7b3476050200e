"""Awaits each call before starting the next: correct results, but never concurrent."""

EXPECT = {
    "check": "check_limited_map",
    "property": "4 calls run at the same time when there is enough work",
    "observed": "peak in-flight was 1, limit 4",
}


async def limited_map(func, items, limit):
    if limit < 1:
        raise ValueError(limit)
    return [await func(item) for item in items]
