"""Document 000's race: returns the first attempt to *complete*, even when it failed."""

EXPECT = {
    "check": "check_first_success",
    "property": "a failed attempt does not end the race",
    "observed": "raised ItemFailed: item 1 failed after 1 s, but attempt 2 would have succeeded after 2 s",
}


async def first_success(*attempts):
    tasks = [asyncio.create_task(attempt()) for attempt in attempts]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        return list(done)[0].result()
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
