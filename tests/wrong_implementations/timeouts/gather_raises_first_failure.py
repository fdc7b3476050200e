"""wait_for(gather(...)): the first task's failure is raised, and gather does not report the others."""

EXPECT = {
    "check": "check_shutdown",
    "property": "reports failures instead of raising them",
    "observed": "it raised OperationFailed: broken failed",
    "hint": "task.exception()",
}


async def shutdown(tasks, grace):
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), grace)
    except TimeoutError:
        pass
    return {task.get_name(): "cancelled" if task.cancelled() else "finished" for task in tasks}
