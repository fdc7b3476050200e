"""A TaskGroup, but the ExceptionGroup is unwrapped and only its first exception raised."""

EXPECT = {
    "check": "check_run_all",
    "property": "the failure surfaces as an ExceptionGroup holding the item's exception",
    "observed": "it raised ItemFailed: item 2 failed",
}


async def run_all(handle, items):
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(handle(item)) for item in items]
    except ExceptionGroup as group_error:
        raise group_error.exceptions[0] from None
    return [task.result() for task in tasks]
