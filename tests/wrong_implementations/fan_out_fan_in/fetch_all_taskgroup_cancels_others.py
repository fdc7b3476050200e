"""Uses a TaskGroup for the requests: the first failing URL cancels every other request, and
fetch_all raises an ExceptionGroup instead of returning the other URLs' bodies."""

EXPECT = {
    "check": "check_fetch_all",
    "property": "one failing URL does not make fetch_all raise",
    "observed": "fetch_all raised ExceptionGroup containing HTTPStatusError",
    "hint": "store each URL's exception in its place",
}


async def fetch_all(client, urls, *, limit=10):
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(url):
        async with semaphore:
            response = await client.get(url)
        response.raise_for_status()
        return response.text

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch_one(url)) for url in urls]
    return [task.result() for task in tasks]
