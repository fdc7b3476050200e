"""Chapter 1's picture runs: the pipeline and the graceful shutdown, on one fixed workload each."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from coursekit.traces import picture_run
from coursekit.virtual_time import VirtualRun, run_virtual
from coursekit.workload import Workload

STOP_AT = 6.25  # virtual seconds: when the graceful-shutdown picture sets ``stop``


@picture_run("run_pipeline")
def pipeline_run(run_pipeline: Callable[..., Any]) -> VirtualRun[Any]:
    """16 items from two producers, 3 consumers, a queue of 4, 1 s per item, item 5 failing."""
    work = Workload(duration=1.0, failing={5})
    return run_virtual(run_pipeline([range(1, 9), range(101, 109)], work, consumers=3, maxsize=4))


async def arrivals(every: float = 0.25) -> AsyncIterator[int]:
    """0, 1, 2, ... one every ``every`` virtual seconds, for ever."""
    item = 0
    while True:
        await asyncio.sleep(every)
        yield item
        item += 1


@picture_run("serve")
def serve_run(serve: Callable[..., Any]) -> VirtualRun[Any]:
    """An item every 0.25 s, 2 consumers at 1 s per item, a queue of 3; ``stop`` set at t = 6.25 s."""

    async def main() -> Any:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_at(STOP_AT, stop.set)
        return await serve(arrivals(), Workload(duration=1.0), consumers=2, maxsize=3, stop=stop)

    return run_virtual(main)
