"""Document 000's consumer: no try around the work, so one failing item kills the consumer."""

EXPECT = {
    "check": "check_consumer",
    "property": "consumer keeps going when handle(item) raises",
    "observed": "handle() raised ItemFailed('item 3 failed')",
}


async def consumer(queue, handle, results, failures):
    while True:
        item = await queue.get()
        if item is STOP:
            queue.task_done()
            break
        results[item] = await handle(item)
        queue.task_done()
