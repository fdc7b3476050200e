"""fetch_all as a worker pool: `limit` workers take the next position from a shared iterator, so
a free worker starts the next URL at once; results are written by position."""


async def fetch_all(client, urls, *, limit=10):
    results = [None] * len(urls)
    positions = iter(range(len(urls)))

    async def worker():
        for index in positions:  # the iterator is shared: each position is taken once
            try:
                response = await client.get(urls[index])
                response.raise_for_status()
                results[index] = response.text
            except httpx.HTTPError as error:
                results[index] = error

    async with asyncio.TaskGroup() as group:
        for _ in range(min(limit, len(urls))):
            group.create_task(worker())
    return results
