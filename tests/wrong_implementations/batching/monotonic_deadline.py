"""Takes the deadline from `time.monotonic()`, a clock the event loop does not use: the loop's
clock never reaches it, so a partial batch never closes."""

import time

EXPECT = {
    "check": "check_collect_batch",
    "property": "collect_batch finishes",
    "observed": "collect_batch was still waiting on queue.get()",
    "hint": "another clock than the loop's (time.monotonic(), time.time())",
}


async def collect_batch(inbox, batch_size, max_wait):
    batch = [await inbox.get()]
    deadline = time.monotonic() + max_wait
    while len(batch) < batch_size and batch[-1] is not STOP:
        try:
            async with asyncio.timeout_at(deadline):
                batch.append(await inbox.get())
        except TimeoutError:
            break
    return batch
