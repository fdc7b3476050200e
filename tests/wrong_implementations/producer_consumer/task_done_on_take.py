"""Marks each item done as soon as it is taken, before handling it: every get() still has its
task_done(), but queue.join() returns while items are still being handled."""

EXPECT = {
    "check": "check_consumer",
    "property": "each item is marked task_done() only once it has been handled",
    "observed": "task_done() for item 1 was called while handle(1) had not finished",
    "hint": "not when you take the item",
}


async def consumer(queue, handle, results, failures):
    while True:
        item = await queue.get()
        queue.task_done()  # "got it"
        if item is STOP:
            return
        try:
            results[item] = await handle(item)
        except Exception as error:
            failures[item] = error
