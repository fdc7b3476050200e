"""Off by one: `<=` lets a batch take batch_size + 1 entries."""

EXPECT = {
    "check": "check_collect_batch",
    "property": "no batch holds more than batch_size=3 entries",
    "observed": "a batch of 4: [6, 7, 8, 9]",
}


async def collect_batch(inbox, batch_size, max_wait):
    batch = [await inbox.get()]
    deadline = asyncio.get_running_loop().time() + max_wait
    while len(batch) <= batch_size and batch[-1] is not STOP:
        try:
            async with asyncio.timeout_at(deadline):
                batch.append(await inbox.get())
        except TimeoutError:
            break
    return batch
