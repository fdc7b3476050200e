"""Skips an item it has already handled ("no item is handled twice"): an item that comes a
second time is taken, marked done, and never handled."""

EXPECT = {
    "check": "check_consumer",
    "args": {"items": ["x", "y", "x", "z", "x"], "failing": {"z"}},
    "property": "every item is handled",
    "observed": "appears more than once in the input",
}


async def consumer(queue, handle, results, failures):
    while True:
        item = await queue.get()
        try:
            if item is STOP:
                return
            if item in results or item in failures:
                continue  # already done
            try:
                results[item] = await handle(item)
            except Exception as error:
                failures[item] = error
        finally:
            queue.task_done()
