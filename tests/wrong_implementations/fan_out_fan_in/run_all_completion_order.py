"""Collects the results with as_completed inside a TaskGroup: all or nothing, but the list is in
the order the items finished, not the order of items."""

EXPECT = {
    "check": "check_run_all",
    "property": "run_all returns the results in the order of items",
    "observed": "for items [0, 1, 2, 3, 4] it returned [('done', 4), ('done', 1)",
    "hint": "not in the order the items finish",
}


async def run_all(handle, items):
    results = []
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(handle(item)) for item in items]
        for next_done in asyncio.as_completed(tasks):
            results.append(await next_done)
    return results
