"""Chapter 4's picture runs: a fan-out with a failure, fetching through one client, a race of mirrors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from coursekit.chapters.fan_out_fan_in.given import CONNECT_TIME, items_service
from coursekit.service import BASE_URL
from coursekit.service.connections import Connections
from coursekit.traces import picture_run
from coursekit.virtual_time import VirtualRun, run_virtual
from coursekit.workload import ItemFailed, Workload

MIRRORS = {"eu": 0.3, "us": 0.8, "asia": 1.5}  # seconds each mirror takes; eu fails


@picture_run("run_all")
def run_all_run(run_all: Callable[..., Any]) -> VirtualRun[Any]:
    """Items 1..5 taking 1..5 s, item 2 failing; the loop then runs 5 s more, to show what is left running."""
    work = Workload(duration=lambda item: float(item), failing={2})

    async def main() -> None:
        try:
            await run_all(work, [1, 2, 3, 4, 5])
        except* ItemFailed:
            pass
        await asyncio.sleep(5)

    return run_virtual(main)


@picture_run("fetch_all")
def fetch_all_run(fetch_all: Callable[..., Any]) -> VirtualRun[Any]:
    """12 URLs with ``limit=4`` through one client, each answer taking 1 s, ``/items/5`` answering 500 or 503."""
    service = items_service(latency=1.0, failing={5}, items=range(1, 13))
    connections = Connections(service, connect_time=CONNECT_TIME)

    async def main() -> Any:
        async with connections.client() as client:
            return await fetch_all(client, [f"{BASE_URL}/items/{n}" for n in range(1, 13)], limit=4)

    with connections.intercept():
        return run_virtual(main)


@picture_run("first_success")
def race_run(first_success: Callable[..., Any]) -> VirtualRun[Any]:
    """Three mirrors started in the order eu, us, asia: eu fails at 0.3 s, us answers at 0.8 s."""
    mirrors = Workload(duration=MIRRORS.__getitem__, failing={"eu"})
    attempts = [(lambda name=name: mirrors(name)) for name in MIRRORS]
    return run_virtual(lambda: first_success(*attempts))
