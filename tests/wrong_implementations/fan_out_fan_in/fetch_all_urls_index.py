"""Fills the results as they complete, each at urls.index(url): the second of two equal URLs
never gets its place filled (index() finds the first), so it stays None."""

EXPECT = {
    "check": "check_fetch_all",
    "property": "results[i] is the body (response.text) of urls[i]",
    "observed": "results[2] is None; urls[2] is /items/3",
    "hint": "that place was never filled",
    "args": {"items": (3, 1, 3, 2, 1), "limit": 2, "slow": ((3, 2.0),), "failing": (2,), "hanging": ()},
}


async def fetch_all(client, urls, *, limit=10):
    semaphore = asyncio.Semaphore(limit)
    results = [None] * len(urls)

    async def fetch_one(url):
        async with semaphore:
            try:
                response = await client.get(url)
                response.raise_for_status()
                return url, response.text
            except httpx.HTTPError as error:
                return url, error

    for next_done in asyncio.as_completed([fetch_one(url) for url in urls]):
        url, result = await next_done
        results[urls.index(url)] = result
    return results
