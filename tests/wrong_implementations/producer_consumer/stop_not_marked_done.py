"""Marks every real item done but forgets the STOP it takes."""

EXPECT = {
    "check": "check_consumer",
    "property": "every item taken, STOP included, is marked task_done()",
    "observed": "never marked done: [STOP]",
}


async def consumer(queue, handle, results, failures):
    while (item := await queue.get()) is not STOP:
        try:
            results[item] = await handle(item)
        except Exception as error:
            failures[item] = error
        finally:
            queue.task_done()
