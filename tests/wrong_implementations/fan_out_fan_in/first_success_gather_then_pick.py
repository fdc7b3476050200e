"""Waits for every attempt with gather, then picks the first success in input order: gather
cannot tell which attempt succeeded first, and it waits for the slowest."""

EXPECT = {
    "check": "check_first_success",
    "property": "first_success returns the first successful result",
    "observed": "it returned ('done', 0); attempt 2 succeeded first, after 2 s",
    "hint": "first to succeed in time",
}


async def first_success(*attempts):
    outcomes = await asyncio.gather(*(attempt() for attempt in attempts), return_exceptions=True)
    successes = [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
    if not successes:
        raise ExceptionGroup("every attempt failed", outcomes)
    return successes[0]
