"""Waits out the grace period, then waits for the late tasks without cancelling them: a stuck task
holds the shutdown as long as it likes."""

EXPECT = {
    "check": "check_shutdown",
    "property": "slow is cancelled when the grace period ends (t=3)",
    "observed": "slow was cancelled at never",
    "hint": "call .cancel() on every task that is not done",
}


async def shutdown(tasks, grace):
    if not tasks:
        return {}
    _, pending = await asyncio.wait(tasks, timeout=grace)
    if pending:
        await asyncio.wait(pending)
    return {
        task.get_name(): "cancelled" if task.cancelled() else "failed" if task.exception() else "finished"
        for task in tasks
    }
