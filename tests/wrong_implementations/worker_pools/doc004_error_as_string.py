"""Document 004's pool stores str(error) as a success: the caller cannot tell a failure from a result."""

EXPECT = {
    "check": "check_pool_worker",
    "property": "a failing job's future holds the exception handle raised",
    "observed": "holds the result 'item 4 failed'",
}


async def pool_worker(queue, handle):
    while True:
        entry = await queue.get()
        try:
            if entry is STOP:
                return
            item, future = entry
            if future.done():
                continue
            try:
                future.set_result(await handle(item))
            except Exception as error:
                future.set_result(str(error))
        finally:
            queue.task_done()
