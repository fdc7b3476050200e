"""gather(return_exceptions=True): the failure becomes a result and run_all returns."""

EXPECT = {
    "check": "check_run_all",
    "property": "run_all raises when an item fails",
    "observed": "it returned [('done', 0), ('done', 1), ItemFailed: item 2 failed",
}


async def run_all(handle, items):
    return await asyncio.gather(*(handle(item) for item in items), return_exceptions=True)
