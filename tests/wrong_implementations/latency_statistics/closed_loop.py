"""A closed loop: each request waits for the previous answer before it is sent, whatever `connections`
allows. When the service is slower than the interval, every request after it goes out late, and the
run sends less load than it claims."""

EXPECT = {
    "check": "check_constant_rate_schedule",
    "subject": "constant_rate",
    "property": "request 1 is sent at its intended time t=2.75 (a connection is free then)",
    "observed": "it was sent at t=3.25",
    "hint": "a closed loop",
}


async def constant_rate(call, *, rate, count, connections):
    loop = asyncio.get_running_loop()
    start = loop.time()
    latencies = []
    for i in range(count):
        intended = start + i / rate
        await asyncio.sleep(max(0.0, intended - loop.time()))
        await call(i)
        latencies.append(loop.time() - intended)
    return latencies
