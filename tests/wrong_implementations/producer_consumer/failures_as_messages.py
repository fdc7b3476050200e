"""Stores the error's message, str(error), in failures[item] instead of the exception itself."""

EXPECT = {
    "check": "check_consumer",
    "property": "failures[item] holds the exception handle(item) raised",
    "observed": "failures[3] is 'item 3 failed' (a str)",
    "hint": "store the exception itself",
}


async def consumer(queue, handle, results, failures):
    while True:
        item = await queue.get()
        try:
            if item is STOP:
                return
            try:
                results[item] = await handle(item)
            except Exception as error:
                failures[item] = str(error)
        finally:
            queue.task_done()
