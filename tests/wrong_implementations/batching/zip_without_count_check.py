"""zip() stops at the shorter list: with one result too few, the last caller waits forever."""

EXPECT = {
    "check": "check_deliver",
    "property": "no future is left pending",
    "observed": "for a batch whose handler returns one result too few, the futures of [8] were never resolved",
}


async def deliver(batch, handler):
    futures = [future for _, future in batch]
    try:
        results = await handler([item for item, _ in batch])
    except Exception as error:
        for future in futures:
            if not future.done():
                future.set_exception(error)
        return
    for future, result in zip(futures, results):
        if not future.done():
            future.set_result(result)
