"""Fans out every request at once and ignores limit."""

EXPECT = {
    "check": "check_fetch_all",
    "property": "at most limit=3 requests are in flight at once",
    "observed": "8 requests were in flight at once",
}


async def fetch_all(client, urls, *, limit=10):
    async def fetch_one(url):
        response = await client.get(url)
        response.raise_for_status()
        return response.text

    return await asyncio.gather(*(fetch_one(url) for url in urls), return_exceptions=True)
