"""Document 000's BatchProcessor keeps max_wait and never uses it: a partial batch never closes."""

EXPECT = {
    "check": "check_collect_batch",
    "property": "collect_batch finishes",
    "observed": "collect_batch was still waiting on queue.get()",
    "hint": "document 000 stores max_wait and never uses it",
}


async def collect_batch(inbox, batch_size, max_wait):
    batch = []
    while len(batch) < batch_size:
        batch.append(await inbox.get())
        if batch[-1] is STOP:
            break
    return batch
