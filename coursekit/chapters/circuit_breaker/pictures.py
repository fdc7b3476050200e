"""Chapter 7's picture run: two clients calling the course's service through one breaker, across an outage."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from coursekit.chapters.circuit_breaker.given import CircuitOpenError, UpstreamError
from coursekit.events import Kind, emit
from coursekit.service import Faults, Latency, Service
from coursekit.traces import picture_run
from coursekit.virtual_time import VirtualRun, run_virtual

OUTAGES = ((20.0, 45.0),)  # seconds on the service's clock when /items answers 503
DURATION = 80.0  # seconds the clients run
SETTINGS = {"failure_threshold": 3, "recovery_timeout": 10.0, "half_open_max_calls": 2}


@picture_run("CircuitBreaker")
def breaker_run(breaker_class: Any) -> VirtualRun[Any]:
    """Two clients, each asking for an item every second (the second half a second later), through one
    ``breaker_class(**SETTINGS, counted=(UpstreamError, httpx.TransportError))``; the service has an
    outage from t = 20 to t = 45. A rejection is emitted as ``breaker.rejected``. The value: how many
    calls were made, failed and rejected."""
    service = Service(seed=3, faults=Faults(latency=Latency.fixed(0.05), outages=OUTAGES))
    breaker = breaker_class(**SETTINGS, counted=(UpstreamError, httpx.TransportError))
    tally = {"made": 0, "failed": 0, "rejected": 0}

    async def get(client: httpx.AsyncClient, n: int) -> Any:
        tally["made"] += 1
        response = await client.get(f"/items/{n}")
        if response.is_server_error:
            tally["failed"] += 1
            raise UpstreamError(response.status_code, f"/items/{n}")
        return response.json()

    async def caller(client: httpx.AsyncClient, offset: float) -> None:
        await asyncio.sleep(offset)
        n = 0
        loop = asyncio.get_running_loop()
        while loop.time() < DURATION:
            n += 1
            try:
                await breaker.call(get, client, n)
            except CircuitOpenError:
                tally["rejected"] += 1
                emit(Kind.BREAKER_REJECTED)
            except UpstreamError:
                pass
            await asyncio.sleep(1.0)

    async def main() -> dict[str, int]:
        async with service.client() as client, asyncio.TaskGroup() as group:
            group.create_task(caller(client, 0.0), name="client-a")
            group.create_task(caller(client, 0.5), name="client-b")
        return tally

    return run_virtual(main, deadline=DURATION + 60)
