"""Sleeps the whole grace period before looking: the shutdown waits 10 s for tasks done at 2.5 s."""

EXPECT = {
    "check": "check_shutdown",
    "args": {"grace": 10.0, "durations": (1.0, 2.0, 2.5)},
    "property": "returns when the last task has ended (t=2.5)",
    "observed": "it returned at t=10",
    "hint": "asyncio.wait returns early",
}


async def shutdown(tasks, grace):
    await asyncio.sleep(grace)
    pending = [task for task in tasks if not task.done()]
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
