"""Asks task.exception() before task.cancelled(): on a cancelled task, exception() raises CancelledError,
which escapes shutdown."""

EXPECT = {
    "check": "check_shutdown",
    "property": "reports a cancelled task as cancelled",
    "observed": "raised CancelledError",
    "hint": "ask task.cancelled() first",
}


async def shutdown(tasks, grace):
    if not tasks:
        return {}
    _, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    report = {}
    for task in tasks:
        if task.exception() is not None:
            report[task.get_name()] = "failed"
        elif task.cancelled():
            report[task.get_name()] = "cancelled"
        else:
            report[task.get_name()] = "finished"
    return report
