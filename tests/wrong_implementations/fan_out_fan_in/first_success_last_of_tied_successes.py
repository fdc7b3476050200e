"""Looks through the finished attempts in input order but forgets to stop at the first success:
when two attempts succeed at the same instant, the later one in the list wins."""

EXPECT = {
    "check": "check_first_success",
    "property": "first_success returns the first successful result",
    "observed": "it returned ('done', 1); attempt 0 succeeded first",
    "hint": "ranked by their order in `attempts`",
    "args": {"durations": (2.0, 2.0, 0.5), "failing": {2}, "all_fail": (0.5, 0.5)},
}


async def first_success(*attempts):
    if not attempts:
        raise ValueError("no attempts")
    tasks = [asyncio.create_task(attempt()) for attempt in attempts]
    try:
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            winner = None
            for task in tasks:
                if task in done and task.exception() is None:
                    winner = task  # no break: a later success overwrites an earlier one
            if winner is not None:
                return winner.result()
        raise ExceptionGroup("every attempt failed", [task.exception() for task in tasks])
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
