"""Fire and forget: the requests are started on schedule but never awaited; it returns after the last
send, with the latencies not yet measured, and leaves the requests running."""

EXPECT = {
    "check": "check_constant_rate_schedule",
    "subject": "constant_rate",
    "property": "leaves no task running when it returns",
    "observed": "request",
    "hint": "await every task you create",
}


async def constant_rate(call, *, rate, count, connections):
    loop = asyncio.get_running_loop()
    start = loop.time()
    latencies = [0.0] * count

    async def request(i, intended):
        await call(i)
        latencies[i] = loop.time() - intended

    for i in range(count):
        intended = start + i / rate
        await asyncio.sleep(max(0.0, intended - loop.time()))
        asyncio.create_task(request(i, intended), name=f"request-{i}")
    return latencies
