"""Turns only 5xx answers into errors (`if response.status_code >= 500`): a 429 Too Many
Requests page is returned as if it were the content."""

EXPECT = {
    "check": "check_fetch_all",
    "property": "a URL answering 4xx or 5xx gets its httpx.HTTPStatusError in its place",
    "observed": "results[2] (/items/3, which answers 429 Too Many Requests) is 'too many requests'",
    "hint": "(429 too)",
    "args": {
        "items": (1, 2, 3, 4, 5, 6),
        "limit": 1,
        "slow": ((5, 0.25),),
        "failing": (1,),
        "refused": (3,),
    },
}


async def fetch_all(client, urls, *, limit=10):
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(url):
        async with semaphore:
            response = await client.get(url)
        if response.status_code >= 500:
            response.raise_for_status()
        return response.text

    return await asyncio.gather(*(fetch_one(url) for url in urls), return_exceptions=True)
