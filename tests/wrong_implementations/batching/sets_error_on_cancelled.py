"""Skips futures that are already done when it sets results, but not when it sets the handler's
error: a caller who gave up in a failing batch makes set_exception() raise. Every visible batch
that fails has no such caller."""

EXPECT = {
    "check": "check_deliver",
    "property": "deliver leaves a future that is already done as it is",
    "observed": "for a batch whose handler raises, deliver raised InvalidStateError",
    "hint": "on the error paths too",
    "args": {
        "ok": ["c", "a", "b", "a"],
        "failing_batch": [30, 31, 32, 33],
        "failing": 30,
        "short": [40, 41, 42, 43],
        "long": [44],
        "given_up": [50, 51],
        "gave_up": [51, 31, 41],
        "torn_down": [60, 61, 62],
        "duration": 2.5,
    },
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
    except Exception as error:
        for future in futures:
            future.set_exception(error)
        return
    for future, result in zip(futures, results):
        if not future.done():
            future.set_result(result)
