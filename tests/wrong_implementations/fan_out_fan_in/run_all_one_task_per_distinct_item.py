"""Handles each distinct item once, keeping its tasks in a dict keyed by item: an item listed
twice is handled only once (its result is copied into both places)."""

EXPECT = {
    "check": "check_run_all",
    "property": "run_all calls handle(item) once for every entry of items",
    "observed": "item 2 is listed 2 time(s), handle was called 1 time(s)",
    "hint": "even when two entries are equal",
    "args": {"durations": (1.0, 3.0, 0.5), "items": (2, 0, 2, 1), "failing": ()},
}


async def run_all(handle, items):
    async with asyncio.TaskGroup() as group:
        tasks = {item: group.create_task(handle(item)) for item in dict.fromkeys(items)}
    return [tasks[item].result() for item in items]
