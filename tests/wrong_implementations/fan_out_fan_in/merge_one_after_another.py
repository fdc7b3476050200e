"""Drains the streams one after another: every item arrives, the later streams' ones late."""

EXPECT = {
    "check": "check_merge",
    "property": "merge yields each item as soon as its stream produces it",
    "observed": "'b0' was due 0.7 s after the start but yielded after 2 s",
}


async def merge(*streams):
    for stream in streams:
        async for item in stream:
            yield item
