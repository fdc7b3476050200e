"""Chapter 8's picture runs: bursty requests through a token bucket; a stream of distinct clients."""

from __future__ import annotations

import asyncio
from typing import Any

from coursekit.chapters.rate_limiting.given import bursty_arrivals, timed_acquire
from coursekit.events import Kind, emit
from coursekit.scenario import sleep_until
from coursekit.traces import picture_run
from coursekit.virtual_time import VirtualRun, run_virtual

BUCKET: dict[str, Any] = {"rate": 4.0, "capacity": 6}  # the bucket of the tokens picture
CLIENTS: dict[str, Any] = {"rate": 4.0, "capacity": 8, "idle_after": 2.0}  # the limiter of the clients picture


@picture_run("TokenBucket")
def bucket_run(bucket_class: Any) -> VirtualRun[Any]:
    """Five bursts of requests (:func:`~coursekit.chapters.rate_limiting.given.bursty_arrivals`, seed 8) through one
    ``bucket_class(**BUCKET)``, each request in a task of its own, asking for one token. The value: how
    many passed at once and how many waited."""
    bucket = bucket_class(**BUCKET)
    arrivals = bursty_arrivals(8)

    async def main() -> dict[str, int]:
        tasks = []
        for number, when in enumerate(arrivals, 1):
            await sleep_until(when)
            tasks.append(asyncio.create_task(timed_acquire(bucket.acquire, number)))
        done = await asyncio.gather(*tasks)
        waited = sum(1 for request in done if request.waited)
        return {"at_once": len(done) - waited, "waited": waited}

    return run_virtual(main, deadline=120)


@picture_run("PerClientLimiter")
def clients_run(limiter_class: Any, clients: int = 6000, per_tick: int = 12) -> VirtualRun[Any]:
    """``clients`` distinct client ids, ``per_tick`` new ones every 1/64 s, each asking once through one
    ``limiter_class(**CLIENTS)``; after every tick a ``limiter.tracked`` event gives ``len(limiter)`` and
    the distinct clients seen so far. The value: the most clients tracked at once."""
    limiter = limiter_class(**CLIENTS)

    async def main() -> int:
        most = seen = 0
        for tick in range(-(-clients // per_tick)):
            await sleep_until(tick / 64)
            for _ in range(min(per_tick, clients - seen)):
                limiter.try_acquire(f"client-{seen}")
                seen += 1
            most = max(most, len(limiter))
            emit(Kind.LIMITER_TRACKED, count=len(limiter), seen=seen)
        return most

    return run_virtual(main, deadline=clients / per_tick / 64 + 60, wall_limit=30)
