"""gather() without return_exceptions: the first failing URL makes the whole call raise."""

EXPECT = {
    "check": "check_fetch_all",
    "property": "one failing URL does not make fetch_all raise",
    "observed": "HTTPStatusError",
    "hint": "return_exceptions=True",
}


async def fetch_all(client, urls, *, limit=10):
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(url):
        async with semaphore:
            response = await client.get(url)
        response.raise_for_status()
        return response.text

    return await asyncio.gather(*(fetch_one(url) for url in urls))
