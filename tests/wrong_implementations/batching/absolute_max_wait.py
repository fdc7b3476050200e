"""Passes max_wait itself to `asyncio.timeout_at`, which takes an absolute time: right only for a
batch that opens near t=0; later batches close as soon as they open."""

EXPECT = {
    "check": "check_collect_batch",
    "property": "a partial batch is returned 0.5 s after its first entry",
    "observed": "batch 2 was [4], returned at t=1 s; expected [4, 5] at t=1.5 s",
    "hint": "not the bare number max_wait",
}


async def collect_batch(inbox, batch_size, max_wait):
    batch = [await inbox.get()]
    while len(batch) < batch_size and batch[-1] is not STOP:
        try:
            async with asyncio.timeout_at(max_wait):
                batch.append(await inbox.get())
        except TimeoutError:
            break
    return batch
