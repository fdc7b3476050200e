"""Races the operation against a timer task (FIRST_COMPLETED): when the operation wins, the timer task
is left running after call_with_fallback has returned."""

EXPECT = {
    "check": "check_call_with_fallback",
    "args": {"duration": 1.0},
    "property": "leaves no task running when it returns",
    "observed": "timer",
    "hint": "cancel it, and wait for it",
}


async def call_with_fallback(operation, timeout, fallback):
    work = asyncio.ensure_future(operation())
    timer = asyncio.ensure_future(asyncio.sleep(timeout))
    timer.set_name("timer")
    await asyncio.wait({work, timer}, return_when=asyncio.FIRST_COMPLETED)
    if work.done():
        return work.result()
    work.cancel()
    await asyncio.wait({work})
    return fallback
