"""Document 000's fan-out: gather() without return_exceptions. It raises at the first error,
but the other items go on running, unobserved."""

EXPECT = {
    "check": "check_run_all",
    "property": "every sibling still running has ended (cancelled) before run_all raises",
    "observed": "run_all raised 2 s after the call, but item 0 went on and ended done 3 s after the call; item 3",
    "hint": "gather() without return_exceptions",
}


async def run_all(handle, items):
    return await asyncio.gather(*(handle(item) for item in items))
