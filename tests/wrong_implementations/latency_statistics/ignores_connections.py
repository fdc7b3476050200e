"""Open loop without a limit: a task per tick, every request at its intended time, however many are
still in flight; `connections` is ignored."""

EXPECT = {
    "check": "check_constant_rate_connections",
    "subject": "constant_rate",
    "property": "at most 3 requests are in flight at once",
    "observed": "were in flight at once",
    "hint": "take a connection before each call",
}


async def constant_rate(call, *, rate, count, connections):
    loop = asyncio.get_running_loop()
    start = loop.time()
    latencies = [0.0] * count

    async def request(i, intended):
        await call(i)
        latencies[i] = loop.time() - intended

    async with asyncio.TaskGroup() as group:
        for i in range(count):
            intended = start + i / rate
            await asyncio.sleep(max(0.0, intended - loop.time()))
            group.create_task(request(i, intended))
    return latencies
