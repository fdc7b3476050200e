"""Chapter 6's picture run: five clients retrying, with full jitter, through an outage of the service."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterator
from typing import Any

from coursekit.chapters.retries.given import RetryPolicy, retry_after_seconds
from coursekit.service import Faults, Latency, Service
from coursekit.traces import picture_run
from coursekit.virtual_time import VirtualRun, run_virtual

OUTAGE = (0.0, 6.0)  # seconds of the service's clock when it answers 503 to everyone
CLIENTS = 5


def full_jitter(seed: int, base: float = 0.5, cap: float = 8.0) -> Callable[[], Iterator[float]]:
    """Delays with full jitter, drawn from ``random.Random(seed)``."""

    def delays() -> Iterator[float]:
        rng = random.Random(seed)
        n = 0
        while True:
            yield rng.uniform(0, min(cap, base * 2**n))
            n += 1

    return delays


@picture_run("retry")
def clients_run(retry: Callable[..., Any]) -> VirtualRun[Any]:
    """Five clients, each GET /items/<its number> with its own seeded full jitter (8 attempts, a 30 s
    deadline), against the service down from t=0 to t=6; the value is each client's final status."""
    service = Service(seed=1, faults=Faults(latency=Latency.fixed(0.05), outages=(OUTAGE,)))

    async def main() -> list[int]:
        async with service.client() as client:

            async def one(number: int) -> int:
                policy = RetryPolicy(
                    attempts=8, delays=full_jitter(number), deadline=30.0, retry_after=retry_after_seconds
                )
                response = await retry(lambda: client.get(f"/items/{number}"), policy)
                return int(response.status_code)

            return list(await asyncio.gather(*(one(number) for number in range(CLIENTS))))

    return run_virtual(main, deadline=120.0)
