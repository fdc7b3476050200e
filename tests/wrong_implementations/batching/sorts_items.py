"""Sorts the items before the handler call ("the database likes sorted keys") and sets the results
in that order: every visible batch is already sorted, so only an unsorted batch shows it."""

EXPECT = {
    "check": "check_deliver",
    "property": "the handler is called once, with the batch's items in order",
    "observed": "for a batch (['c', 'a', 'b', 'a']) the handler was called with: ['a', 'a', 'b', 'c']",
    "hint": "not sorted",
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
        results = await handler(sorted(item for item, _ in batch))
        if len(results) != len(batch):
            raise ValueError("wrong number of results")
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
