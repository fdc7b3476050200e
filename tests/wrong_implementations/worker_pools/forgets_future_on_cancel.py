"""Cancelled mid-job, the worker leaves that job's future pending: its awaiter waits forever."""

EXPECT = {
    "check": "check_pool_worker_cancelled",
    "property": "the job a cancelled worker was running gets a cancelled future",
    "observed": "were never settled",
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
                future.set_exception(error)
        finally:
            queue.task_done()
