"""One `asyncio.timeout(max_wait)` around the whole collection, first get included: when nothing
arrives within max_wait of the call, it returns an empty batch."""

EXPECT = {
    "check": "check_collect_batch",
    "property": "collect_batch waits for the first entry with no time limit",
    "observed": "it returned an empty batch at t=0.7 s",
}


async def collect_batch(inbox, batch_size, max_wait):
    batch = []
    try:
        async with asyncio.timeout(max_wait):
            while len(batch) < batch_size:
                batch.append(await inbox.get())
                if batch[-1] is STOP:
                    break
    except TimeoutError:
        pass
    return batch
