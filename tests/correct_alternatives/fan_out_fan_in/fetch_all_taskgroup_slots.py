"""fetch_all with a TaskGroup, a semaphore around the whole request, and each request catching its
own httpx errors, so that no failure reaches the group."""


async def fetch_all(client, urls, *, limit=10):
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(url):
        async with semaphore:
            try:
                response = await client.get(url)
                return response.raise_for_status().text
            except httpx.HTTPError as error:
                return error

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch_one(url)) for url in urls]
    return [task.result() for task in tasks]
