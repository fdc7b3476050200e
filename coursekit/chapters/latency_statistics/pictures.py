"""Chapter 9's picture run: a constant-rate load against the course's service while it stalls for 2 s."""

from __future__ import annotations

import asyncio
from typing import Any

from coursekit.chapters.latency_statistics.given import StalledService
from coursekit.events import Kind, emit
from coursekit.service import Faults, Latency
from coursekit.traces import picture_run
from coursekit.virtual_time import VirtualRun, run_virtual

START = 0.5  # loop seconds when the load starts (the service's clock starts at 0)
RATE = 8.0  # requests per second
COUNT = 320  # 40 s of load
CONNECTIONS = 1
STALLS = ((10.0, 12.0),)  # the service is frozen from t = 10 to t = 12


def stalled_service() -> StalledService:
    """The picture's service: answers in about 20 ms (lognormal), frozen during STALLS."""
    return StalledService(seed=9, faults=Faults(latency=Latency.lognormal(0.02, 0.4)), stalls=STALLS)


@picture_run("constant_rate")
def stall_run(constant_rate: Any) -> VirtualRun[Any]:
    """``constant_rate(call, rate=RATE, count=COUNT, connections=CONNECTIONS)`` from ``START``, each call a
    ``GET /items/{i}`` to :func:`stalled_service`, emitted as ``load.sent`` and ``load.done``; the value is
    the list of latencies ``constant_rate`` returned."""
    service = stalled_service()

    async def main() -> Any:
        async with service.client() as client:

            async def call(i: int) -> int:
                emit(Kind.LOAD_SENT, request=i)
                response = await client.get(f"/items/{i}")
                emit(Kind.LOAD_DONE, request=i, status=response.status_code)
                return response.status_code

            await asyncio.sleep(START)
            return await constant_rate(call, rate=RATE, count=COUNT, connections=CONNECTIONS)

    return run_virtual(main, deadline=120, wall_limit=120)
