"""Cancels the late tasks and returns at once, reporting them cancelled while their cleanup still runs."""

EXPECT = {
    "check": "check_shutdown",
    "property": "returns when the last task has ended (t=3.5)",
    "observed": "it returned at t=3",
    "hint": "await the cancelled tasks",
}


async def shutdown(tasks, grace):
    if not tasks:
        return {}
    done, pending = await asyncio.wait(tasks, timeout=grace)
    report = {task.get_name(): "failed" if task.exception() else "finished" for task in done}
    for task in pending:
        task.cancel()
        report[task.get_name()] = "cancelled"
    return report
