"""Awaits each delivery in the loop (document 000 even holds a lock): a slow handler holds up the next batch."""

EXPECT = {
    "check": "check_batch_loop",
    "property": "a slow handler does not delay the next batch",
    "observed": "handler calls never overlapped: batch [4, 5] was handed to the handler at t=2.2 s",
}


async def batch_loop(inbox, handler, *, batch_size, max_wait):
    while True:
        batch = await collect_batch(inbox, batch_size, max_wait)
        stopping = batch[-1] is STOP
        if stopping:
            batch.pop()
        if batch:
            await deliver(batch, handler)
        if stopping:
            return
