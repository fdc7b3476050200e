"""A task per tick taking a connection token from an asyncio.Queue: Queue.get() lets a newcomer take a
token that was just put back for a waiter that has not run yet, so a request that arrives on time jumps
ahead of older ones still waiting; requests go out of order after a stall."""

EXPECT = {
    "check": "check_constant_rate_from_intended",
    "subject": "constant_rate",
    "args": {"stall_at": "first", "start": 0.0},
    "property": "request 2, intended at t=0.5, is sent at t=2.25, as soon as a connection is free",
    "observed": "it was sent at t=3.125",
    "hint": "never drift",
}


async def constant_rate(call, *, rate, count, connections):
    loop = asyncio.get_running_loop()
    start = loop.time()
    tokens = asyncio.Queue()
    for n in range(connections):
        tokens.put_nowait(n)
    tasks = []

    async def request(i, intended):
        token = await tokens.get()
        try:
            await call(i)
        finally:
            tokens.put_nowait(token)
        return loop.time() - intended

    for i in range(count):
        intended = start + i / rate
        await asyncio.sleep(max(0.0, intended - loop.time()))
        tasks.append(asyncio.create_task(request(i, intended)))
    return list(await asyncio.gather(*tasks))
