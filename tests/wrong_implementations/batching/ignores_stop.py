"""Treats STOP like any entry: the last batch waits out max_wait instead of ending at once."""

EXPECT = {
    "check": "check_collect_batch",
    "property": "taking STOP ends the batch at once",
    "observed": "batch 5 was [10, STOP], returned at t=5.5 s; expected [10, STOP] at t=5.2 s",
}


async def collect_batch(inbox, batch_size, max_wait):
    batch = [await inbox.get()]
    deadline = asyncio.get_running_loop().time() + max_wait
    while len(batch) < batch_size:
        try:
            async with asyncio.timeout_at(deadline):
                batch.append(await inbox.get())
        except TimeoutError:
            break
    return batch
