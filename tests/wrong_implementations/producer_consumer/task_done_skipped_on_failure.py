"""task_done() outside finally: the `continue` after a failure skips it, so join() would hang."""

EXPECT = {
    "check": "check_consumer",
    "property": "every item taken, STOP included, is marked task_done()",
    "observed": "never marked done: [3]",
}


async def consumer(queue, handle, results, failures):
    while True:
        item = await queue.get()
        if item is STOP:
            queue.task_done()
            return
        try:
            results[item] = await handle(item)
        except Exception as error:
            failures[item] = error
            continue
        queue.task_done()
