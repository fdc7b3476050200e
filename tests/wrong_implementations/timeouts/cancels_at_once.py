"""No grace period: every task is cancelled at once, even one about to finish."""

EXPECT = {
    "check": "check_shutdown",
    "property": "quick runs until it ends or the grace period is over",
    "observed": "quick never ran: it was cancelled before it started",
    "hint": "wait up to `grace` seconds before cancelling",
}


async def shutdown(tasks, grace):
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    report = {}
    for task in tasks:
        if task.cancelled():
            report[task.get_name()] = "cancelled"
        else:
            report[task.get_name()] = "failed" if task.exception() else "finished"
    return report
