"""Cancels the batch's futures when cancelled, then returns as if nothing happened: the cancellation is swallowed."""

EXPECT = {
    "check": "check_deliver",
    "property": "a cancelled deliver lets the CancelledError propagate",
    "observed": "and returned normally",
    "hint": "re-raise the CancelledError",
}


async def deliver(batch, handler):
    futures = [future for _, future in batch]
    try:
        results = await handler([item for item, _ in batch])
        if len(results) != len(batch):
            raise ValueError("wrong number of results")
    except asyncio.CancelledError:
        for future in futures:
            future.cancel()
        return
    except Exception as error:
        for future in futures:
            if not future.done():
                future.set_exception(error)
        return
    for future, result in zip(futures, results):
        if not future.done():
            future.set_result(result)
