"""A task per tick with create_task (no TaskGroup), each taking a connection from an asyncio.Semaphore
inside the task (asyncio's semaphore wakes its waiters in order, first come first served, so requests go
out in order) and giving it back when answered; gather at the end collects the latencies in order."""


async def constant_rate(call, *, rate, count, connections):
    loop = asyncio.get_running_loop()
    start = loop.time()
    connection = asyncio.Semaphore(connections)
    tasks = []

    async def request(i, intended):
        async with connection:
            await call(i)
        return loop.time() - intended

    for i in range(count):
        intended = start + i / rate
        await asyncio.sleep(max(0.0, intended - loop.time()))
        tasks.append(asyncio.create_task(request(i, intended)))
    return list(await asyncio.gather(*tasks))
