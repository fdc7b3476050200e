"""asyncio.wait(FIRST_EXCEPTION), then cancels the others but does not wait for them to end."""

EXPECT = {
    "check": "check_run_all",
    "property": "every sibling still running has ended (cancelled) before run_all raises",
    "observed": "but item 0 went on and ended cancelled 2 s after the call",
    "hint": "you cancelled them but did not wait",
}


async def run_all(handle, items):
    tasks = [asyncio.create_task(handle(item)) for item in items]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    for task in pending:
        task.cancel()
    errors = [task.exception() for task in done if task.exception() is not None]
    if errors:
        raise ExceptionGroup("run_all failed", errors)
    return [task.result() for task in tasks]
