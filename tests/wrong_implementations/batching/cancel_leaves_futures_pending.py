"""No `except asyncio.CancelledError`: `except Exception` does not catch a cancellation, so a
cancelled delivery leaves its callers waiting for ever."""

EXPECT = {
    "check": "check_deliver",
    "property": "a cancelled deliver cancels its batch's futures",
    "observed": "then the future of 14 was still pending; the future of 15 was still pending",
    "hint": "`except Exception` does not catch asyncio.CancelledError",
}


async def deliver(batch, handler):
    futures = [future for _, future in batch]
    try:
        results = await handler([item for item, _ in batch])
        if len(results) != len(batch):
            raise ValueError("wrong number of results")
    except Exception as error:
        for future in futures:
            if not future.done():
                future.set_exception(error)
        return
    for future, result in zip(futures, results):
        if not future.done():
            future.set_result(result)
