"""Relies on `zip(..., strict=True)` to catch a wrong count: it raises only after setting the first
results, outside the try, so the ValueError escapes deliver and the last caller waits for ever."""

EXPECT = {
    "check": "check_deliver",
    "property": "deliver never raises an exception",
    "observed": "for a batch whose handler returns one result too few, deliver raised ValueError",
    "hint": "count the results before setting any",
}


async def deliver(batch, handler):
    futures = [future for _, future in batch]
    try:
        results = await handler([item for item, _ in batch])
    except asyncio.CancelledError:
        for future in futures:
            future.cancel()
        raise
    except Exception as error:
        for future in futures:
            if not future.done():
                future.set_exception(error)
        return
    for future, result in zip(futures, results, strict=True):
        if not future.done():
            future.set_result(result)
