"""Collects results with as_completed: completion order, not input order."""

EXPECT = {
    "check": "check_fetch_all",
    "property": "results[i] is the body (response.text) of urls[i]",
    "observed": "; urls[",
    "hint": "as_completed",
}  # ties finish in any order


async def fetch_all(client, urls, *, limit=10):
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(url):
        async with semaphore:
            response = await client.get(url)
        response.raise_for_status()
        return response.text

    results = []
    for next_done in asyncio.as_completed([fetch_one(url) for url in urls]):
        try:
            results.append(await next_done)
        except httpx.HTTPError as error:
            results.append(error)
    return results
