"""Gives `limit` no default of 10 but None, meaning "no limit": called without a limit, every
URL goes out at once."""

EXPECT = {
    "check": "check_fetch_all",
    "property": "at most the default limit=10 requests are in flight at once",
    "observed": "14 requests were in flight at once",
    "hint": "limit=10",
    "args": {
        "items": (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14),
        "limit": None,
        "slow": ((1, 2.0),),
        "failing": (),
        "hanging": (),
    },
}


async def fetch_all(client, urls, *, limit=None):
    semaphore = asyncio.Semaphore(limit or max(len(urls), 1))

    async def fetch_one(url):
        async with semaphore:
            response = await client.get(url)
        response.raise_for_status()
        return response.text

    return await asyncio.gather(*(fetch_one(url) for url in urls), return_exceptions=True)
