"""Awaits each request before starting the next: correct, but one request at a time."""

EXPECT = {
    "check": "check_fetch_all",
    "property": "requests run concurrently, up to limit=3 at a time",
    "observed": "at most 1 request(s) were in flight at once",
}


async def fetch_all(client, urls, *, limit=10):
    results = []
    for url in urls:
        try:
            response = await client.get(url)
            response.raise_for_status()
            results.append(response.text)
        except httpx.HTTPError as error:
            results.append(error)
    return results
