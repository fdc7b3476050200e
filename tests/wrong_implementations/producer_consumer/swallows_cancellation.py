"""Catches BaseException around the work, so cancellation is recorded as a failure and ignored."""

EXPECT = {
    "check": "check_consumer_cancelled",
    "property": "a cancelled consumer ends as cancelled",
    "observed": "did not end as cancelled",
}


async def consumer(queue, handle, results, failures):
    while True:
        item = await queue.get()
        try:
            if item is STOP:
                return
            try:
                results[item] = await handle(item)
            except BaseException as error:
                failures[item] = error
        finally:
            queue.task_done()
