"""Looks for STOP only among the entries after the first: a STOP that opens a batch waits out max_wait."""

EXPECT = {
    "check": "check_collect_batch",
    "property": "taking STOP ends the batch at once",
    "observed": "batch 2 was [STOP], returned at t=3.6 s; expected [STOP] at t=3.1 s",
    "hint": "here STOP is the first entry of its batch",
    "args": {"arrivals": [(2.5, 1), (2.6, 2), (2.7, 3)], "batch_size": 3, "max_wait": 0.5, "stop_after": 0.4},
}


async def collect_batch(inbox, batch_size, max_wait):
    batch = [await inbox.get()]
    deadline = asyncio.get_running_loop().time() + max_wait
    while len(batch) < batch_size:
        try:
            async with asyncio.timeout_at(deadline):
                entry = await inbox.get()
        except TimeoutError:
            break
        batch.append(entry)
        if entry is STOP:
            break
    return batch
