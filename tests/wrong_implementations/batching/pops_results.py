"""Takes the results with `results.pop()`, from the end: the callers get each other's results."""

EXPECT = {
    "check": "check_deliver",
    "property": "each caller gets exactly its own result",
    "observed": "for a batch ([1, 2, 3]), the caller of 1 got result ('done', 3), expected result ('done', 1)",
    "hint": "the handler's i-th result belongs to the batch's i-th entry",
}


async def deliver(batch, handler):
    try:
        results = list(await handler([item for item, _ in batch]))
        if len(results) != len(batch):
            raise ValueError("wrong number of results")
    except asyncio.CancelledError:
        for _, future in batch:
            future.cancel()
        raise
    except Exception as error:
        for _, future in batch:
            if not future.done():
                future.set_exception(error)
        return
    for _, future in batch:
        result = results.pop()
        if not future.done():
            future.set_result(result)
