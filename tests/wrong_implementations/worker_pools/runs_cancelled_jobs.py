"""Runs every job it takes, even one whose submitter already cancelled it (then crashes on set_result)."""

EXPECT = {
    "check": "check_pool_worker",
    "property": "a job cancelled before it started never runs",
    "observed": "and handle(12) was called anyway",
}


async def pool_worker(queue, handle):
    while True:
        entry = await queue.get()
        try:
            if entry is STOP:
                return
            item, future = entry
            try:
                result = await handle(item)
            except Exception as error:
                if not future.done():
                    future.set_exception(error)
            else:
                if not future.done():
                    future.set_result(result)
        finally:
            queue.task_done()
