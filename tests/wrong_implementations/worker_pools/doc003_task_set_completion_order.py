"""Document 003's first version (a hand-managed task set): results collected as tasks finish."""

EXPECT = {
    "check": "check_limited_map",
    "property": "results are in the order of the items",
    "observed": "is ('done', ",
}  # which ones first varies: done is a set


async def limited_map(func, items, limit):
    if limit < 1:
        raise ValueError(limit)
    running, results = set(), []
    for item in items:
        if len(running) >= limit:
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            results += [task.result() for task in done]
        running.add(asyncio.create_task(func(item)))
    done, _ = await asyncio.wait(running)
    results += [task.result() for task in done]
    return results
