"""Sends the URLs in batches of `limit` with one gather per batch: never more than `limit` in
flight, but each batch waits for its slowest request while the other places stay empty."""

EXPECT = {
    "check": "check_fetch_all",
    "property": "a new request starts as soon as one of the limit's places is free",
    "observed": "after the call only 1 request(s) were in flight while 5 URL(s) had not been requested yet",
    "hint": "fixed batches",
}


async def fetch_all(client, urls, *, limit=10):
    async def fetch_one(url):
        response = await client.get(url)
        response.raise_for_status()
        return response.text

    results = []
    for first in range(0, len(urls), limit):
        batch = urls[first : first + limit]
        results += await asyncio.gather(*(fetch_one(url) for url in batch), return_exceptions=True)
    return results
