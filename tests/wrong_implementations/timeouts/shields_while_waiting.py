"""Shields each task for the grace period, for fear that asyncio.wait cancels what it times out (it
does not): the shields take each task's outcome, and a failure copied into a shield nobody reads is
logged as "Future exception was never retrieved"."""

EXPECT = {
    "check": "check_shutdown",
    "property": "leaves no failure unretrieved",
    "observed": "broken failed",
    "hint": "never retrieved",
}


async def shutdown(tasks, grace):
    if not tasks:
        return {}
    shields = [asyncio.shield(task) for task in tasks]
    await asyncio.wait(shields, timeout=grace)
    still_running = [task for task in tasks if not task.done()]
    for task in still_running:
        task.cancel()
    if still_running:
        await asyncio.wait(still_running)
    report = {}
    for task in tasks:
        if task.cancelled():
            report[task.get_name()] = "cancelled"
        else:
            report[task.get_name()] = "failed" if task.exception() is not None else "finished"
    return report
