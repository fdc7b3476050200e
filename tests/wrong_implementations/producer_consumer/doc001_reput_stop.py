"""Document 001's consumer: puts the single sentinel back for the next consumer, without task_done()."""

EXPECT = {
    "check": "check_consumer",
    "property": "consumer puts nothing back into the queue",
    "observed": "put 1 item(s) into the queue",
}


async def consumer(queue, handle, results, failures):
    while True:
        item = await queue.get()
        if item is STOP:
            await queue.put(STOP)  # "leave it for the others" -- but never marked done
            return
        try:
            results[item] = await handle(item)
        except Exception as error:
            failures[item] = error
        finally:
            queue.task_done()
