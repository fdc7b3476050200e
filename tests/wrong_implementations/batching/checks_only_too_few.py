"""Guards against too few results only (`<`): one result too many is handed out as if it fitted."""

EXPECT = {
    "check": "check_deliver",
    "property": "a handler that returns the wrong number of results fails every caller with ValueError",
    "observed": "for a batch whose handler returns one result too many, the caller of 9 got result ('done', 9)",
    "hint": "for too many results as for too few",
}


async def deliver(batch, handler):
    futures = [future for _, future in batch]
    try:
        results = await handler([item for item, _ in batch])
        if len(results) < len(batch):
            raise ValueError("too few results")
    except asyncio.CancelledError:
        for future in futures:
            future.cancel()
        raise
    except Exception as error:
        for future in futures:
            if not future.done():
                future.set_exception(error)
        return
    for future, result in zip(futures, results):
        if not future.done():
            future.set_result(result)
