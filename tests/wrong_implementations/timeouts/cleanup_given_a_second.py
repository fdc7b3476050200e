"""Gives cancelled tasks one second to finish: a task that ignores its cancellation is reported as cancelled
while it is still running."""

EXPECT = {
    "check": "check_shutdown_stubborn",
    "subject": "shutdown",
    "property": "waits for the task to end (t=4) and reports it finished",
    "observed": "it returned {'stubborn': 'cancelled'} at t=2",
    "hint": "wait until each task is really done",
}


async def shutdown(tasks, grace):
    if not tasks:
        return {}
    _, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=1.0)
    report = {}
    for task in tasks:
        if not task.done() or task.cancelled():
            report[task.get_name()] = "cancelled"
        else:
            report[task.get_name()] = "failed" if task.exception() else "finished"
    return report
