"""Document 000's fetch(): opens a new httpx.AsyncClient for every request (no connection reuse)."""

EXPECT = {
    "check": "check_fetch_all",
    "property": "fetch_all sends every request through the one client it is given",
    "observed": "8 more client(s) were created for 8 URL(s); 8 connections were opened",
    "hint": "empty connection pool",
}


async def fetch_all(client, urls, *, limit=10):
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(url):
        async with semaphore:
            async with httpx.AsyncClient() as own_client:  # a fresh pool, a fresh connection
                response = await own_client.get(url)
        response.raise_for_status()
        return response.text

    return await asyncio.gather(*(fetch_one(url) for url in urls), return_exceptions=True)
