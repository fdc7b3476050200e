"""Does not skip futures that are already done: set_result() on a cancelled one raises."""

EXPECT = {
    "check": "check_deliver",
    "property": "deliver leaves a future that is already done as it is",
    "observed": "InvalidStateError",
}


async def deliver(batch, handler):
    futures = [future for _, future in batch]
    try:
        results = await handler([item for item, _ in batch])
        if len(results) != len(batch):
            raise ValueError("wrong number of results")
    except Exception as error:
        for future in futures:
            future.set_exception(error)
        return
    for future, result in zip(futures, results):
        future.set_result(result)
