"""collect_batch that computes the time left before each get and uses asyncio.wait_for, taking
whatever is already queued with get_nowait(); deliver that decides every caller's outcome first
(results, or one exception for all) and then resolves the futures in one loop."""


async def collect_batch(inbox, batch_size, max_wait):
    loop = asyncio.get_running_loop()
    batch = [await inbox.get()]
    deadline = loop.time() + max_wait
    while len(batch) < batch_size and batch[-1] is not STOP:
        if not inbox.empty():
            batch.append(inbox.get_nowait())
            continue
        left = deadline - loop.time()
        if left <= 0:
            break
        try:
            batch.append(await asyncio.wait_for(inbox.get(), left))
        except TimeoutError:
            break
    return batch


async def deliver(batch, handler):
    try:
        results = list(await handler([item for item, _ in batch]))
    except asyncio.CancelledError:
        for _, future in batch:
            future.cancel()
        raise
    except Exception as error:
        outcomes = [error] * len(batch)
    else:
        if len(results) == len(batch):
            outcomes = [None] * len(batch)
        else:
            wrong = ValueError(f"{len(results)} results for {len(batch)} items")
            outcomes = [wrong] * len(batch)
    for position, (_, future) in enumerate(batch):
        if future.done():
            continue
        if outcomes[position] is None:
            future.set_result(results[position])
        else:
            future.set_exception(outcomes[position])
