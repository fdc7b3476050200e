"""Sleeps concurrently and returns the right time, but leaves a background task running.

A "heartbeat" task that counts progress every half second is started and never
cancelled or awaited, so it outlives the call."""

EXPECT = {
    "check": "check_fetch_all",
    "property": "fetch_all leaves no task running when it returns",
    "observed": "heartbeat",
    "hint": "await every task you create",
}


async def fetch_all(delays):
    """Sleep ``asyncio.sleep(d)`` for every ``d`` in ``delays``, all at once."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    beats = []

    async def heartbeat():
        while True:
            await asyncio.sleep(0.5)
            beats.append(loop.time())

    asyncio.create_task(heartbeat(), name="heartbeat")
    await asyncio.gather(*(asyncio.sleep(d) for d in delays))
    return round(loop.time() - start, 3)
