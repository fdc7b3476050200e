"""Calls the handler once per item: correct results, but no batching at all."""

EXPECT = {
    "check": "check_deliver",
    "property": "the handler is called once, with the batch's items in order",
    "observed": "for a batch ([1, 2, 3]) the handler was called with: [1], [2], [3]",
}


async def deliver(batch, handler):
    for item, future in batch:
        try:
            result = (await handler([item]))[0]
        except Exception as error:
            if not future.done():
                future.set_exception(error)
        else:
            if not future.done():
                future.set_result(result)
