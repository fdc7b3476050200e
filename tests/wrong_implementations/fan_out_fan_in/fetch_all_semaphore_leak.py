"""Acquires the semaphore by hand and releases it after raise_for_status(): a request that fails
never gives its place back, so the fan-out narrows with every error."""

EXPECT = {
    "check": "check_fetch_all",
    "property": "a new request starts as soon as one of the limit's places is free",
    "observed": "only 2 request(s) were in flight",
    "hint": "a request that failed kept its place",
}


async def fetch_all(client, urls, *, limit=10):
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(url):
        await semaphore.acquire()
        response = await client.get(url)
        response.raise_for_status()
        semaphore.release()
        return response.text

    return await asyncio.gather(*(fetch_one(url) for url in urls), return_exceptions=True)
