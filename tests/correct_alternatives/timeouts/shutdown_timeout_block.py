"""A timeout block around waiting for each task in turn, then one cancel and a wait for the rest."""


async def shutdown(tasks, grace):
    report = {}
    try:
        async with asyncio.timeout(grace):
            for task in tasks:
                await asyncio.wait({task})
    except TimeoutError:
        pass
    late = [task for task in tasks if not task.done()]
    for task in late:
        task.cancel()
    for task in late:
        await asyncio.wait({task})
    for task in tasks:
        if task.cancelled():
            report[task.get_name()] = "cancelled"
        else:
            report[task.get_name()] = "failed" if task.exception() else "finished"
    return report
