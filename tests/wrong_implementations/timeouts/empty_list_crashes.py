"""asyncio.wait() on an empty list raises ValueError: shutting down nothing crashes."""

EXPECT = {
    "check": "check_shutdown_nothing",
    "subject": "shutdown",
    "property": "handles an empty list of tasks",
    "observed": "it raised ValueError",
    "hint": "asyncio.wait() refuses an empty set",
}


async def shutdown(tasks, grace):
    _, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    report = {}
    for task in tasks:
        if task.cancelled():
            report[task.get_name()] = "cancelled"
        else:
            report[task.get_name()] = "failed" if task.exception() else "finished"
    return report
