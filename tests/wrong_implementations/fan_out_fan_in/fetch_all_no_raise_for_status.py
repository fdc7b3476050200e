"""Never calls raise_for_status(): an error page (500 or 503) is returned as if it were the content."""

EXPECT = {
    "check": "check_fetch_all",
    "property": "a URL answering 4xx or 5xx gets its httpx.HTTPStatusError in its place",
    "observed": "results[3] (/items/4, which answers 500 or 503) is 'internal error'",
    "hint": "raise_for_status()",
}


async def fetch_all(client, urls, *, limit=10):
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(url):
        async with semaphore:
            response = await client.get(url)
        return response.text

    return await asyncio.gather(*(fetch_one(url) for url in urls), return_exceptions=True)
