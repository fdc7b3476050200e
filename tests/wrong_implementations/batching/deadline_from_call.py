"""Starts the max_wait clock when collect_batch is called, not when the first entry arrives."""

EXPECT = {
    "check": "check_collect_batch",
    "property": "a partial batch is returned 0.5 s after its first entry",
    "observed": "batch 2 was [4], returned at t=1 s; expected [4, 5] at t=1.5 s",
    "hint": "start the max_wait clock when the first entry arrives",
}


async def collect_batch(inbox, batch_size, max_wait):
    deadline = asyncio.get_running_loop().time() + max_wait
    batch = [await inbox.get()]
    while len(batch) < batch_size and batch[-1] is not STOP:
        try:
            async with asyncio.timeout_at(deadline):
                batch.append(await inbox.get())
        except TimeoutError:
            break
    return batch
