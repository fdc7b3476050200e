"""Document 000's _flush: no try around the handler, so its error escapes and every future stays pending."""

EXPECT = {
    "check": "check_deliver",
    "property": "deliver sets the handler's error on the futures instead of raising",
    "observed": "left 3 of 3 futures pending",
}


async def deliver(batch, handler):
    results = await handler([item for item, _ in batch])
    for (_, future), result in zip(batch, results):
        future.set_result(result)
