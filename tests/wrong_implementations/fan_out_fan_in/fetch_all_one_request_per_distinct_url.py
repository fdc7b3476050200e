"""Requests each distinct URL once and copies its answer to every place it is listed: a URL
listed twice is requested once (the statement asks for one request per entry)."""

EXPECT = {
    "check": "check_fetch_all",
    "property": "every URL is requested once per time it is listed",
    "observed": "/items/3 listed 2 time(s), requested 1",
    "hint": "one task (and one result) per position of urls",
    "args": {"items": (3, 1, 3, 2, 1), "limit": 2, "slow": ((3, 2.0),), "failing": (2,), "hanging": ()},
}


async def fetch_all(client, urls, *, limit=10):
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(url):
        async with semaphore:
            response = await client.get(url)
        response.raise_for_status()
        return response.text

    distinct = list(dict.fromkeys(urls))
    answers = await asyncio.gather(*(fetch_one(url) for url in distinct), return_exceptions=True)
    by_url = dict(zip(distinct, answers, strict=True))
    return [by_url[url] for url in urls]
