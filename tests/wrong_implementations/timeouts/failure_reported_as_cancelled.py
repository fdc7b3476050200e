"""Anything that did not return counts as cancelled: a failure disappears from the report."""

EXPECT = {
    "check": "check_shutdown",
    "property": "reports {'quick': 'finished', 'broken': 'failed', 'slow': 'cancelled'}",
    "observed": "'broken': 'cancelled'",
}


async def shutdown(tasks, grace):
    if not tasks:
        return {}
    _, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    return {task.get_name(): "cancelled" if task.cancelled() or task.exception() else "finished" for task in tasks}
