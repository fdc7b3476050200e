"""Never calls raise_for_status(): a 503 page is returned as if it were the content."""

EXPECT = {
    "check": "check_fetch_all",
    "property": "a URL answering 503 gets its httpx.HTTPStatusError in its place",
    "observed": "is '/items/4 is unavailable'",
}


async def fetch_all(client, urls, *, limit=10):
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(url):
        async with semaphore:
            response = await client.get(url)
        return response.text

    return await asyncio.gather(*(fetch_one(url) for url in urls), return_exceptions=True)
