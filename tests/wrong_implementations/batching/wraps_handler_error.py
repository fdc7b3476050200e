"""Wraps the handler's error in a new RuntimeError: the callers cannot tell what failed, nor catch it by type."""

EXPECT = {
    "check": "check_deliver",
    "property": "every caller of a failed batch gets the handler's error",
    "observed": "the caller of 4 got error RuntimeError",
    "hint": "not a new one",
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
        raise
    except ValueError as error:
        for future in futures:
            if not future.done():
                future.set_exception(error)
        return
    except Exception as error:
        for future in futures:
            if not future.done():
                future.set_exception(RuntimeError(f"the batch failed: {error}"))
        return
    for future, result in zip(futures, results):
        if not future.done():
            future.set_result(result)
