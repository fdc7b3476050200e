"""asyncio.wait for the grace period, then gather(return_exceptions=True) over the cancelled ones."""


async def shutdown(tasks, grace):
    tasks = list(tasks)
    if not tasks:
        return {}
    _, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    outcomes = {}
    for task in tasks:
        if task.cancelled():
            outcomes[task.get_name()] = "cancelled"
        elif task.exception() is not None:
            outcomes[task.get_name()] = "failed"
        else:
            outcomes[task.get_name()] = "finished"
    return outcomes
