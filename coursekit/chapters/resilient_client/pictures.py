"""Chapter 10's picture run: callers through one ResilientClient, across an outage of the course's service.

Every layer the client is given is instrumented here, not in the learner's code: the
breakers are :class:`~coursekit.chapters.resilient_client.given.LoopClockBreaker` (``breaker.state``,
``breaker.rejected``), the limiter is aiolimiter's ``AsyncLimiter`` behind a wrapper that
emits ``limiter.admitted``, the service emits ``server.request`` / ``server.response``, and
each caller emits ``call.start`` / ``call.end`` (with ``latency`` and ``outcome``). Each call
asks for a URL of its own, so a second request for a URL is a retry.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiolimiter import AsyncLimiter

from coursekit.chapters.resilient_client.given import ClientPolicy, breakers_of, jittered_delays
from coursekit.events import Kind, emit
from coursekit.scenario import sleep_until
from coursekit.service import Faults, Latency, Service
from coursekit.traces import picture_run
from coursekit.virtual_time import VirtualRun, run_virtual

OUTAGES = ((12.0, 22.0),)  # seconds on the service's clock when every path answers 503
DURATION = 40.0  # seconds the callers keep calling
CALLERS = 6  # each calls every 0.5 s
RATE = (8, 1.0)  # the shared limiter: 8 requests per second
POLICY: dict[str, Any] = {"attempt_timeout": 1.0, "attempts": 4, "deadline": 6.0, "max_in_flight": 4}
BREAKER = (3, 5.0)  # 3 failures in a row open it for 5 s


class CountingLimiter:
    """aiolimiter's AsyncLimiter, emitting ``limiter.admitted`` at each admission."""

    def __init__(self, rate: float, period: float) -> None:
        self.limiter = AsyncLimiter(rate, period)

    async def acquire(self, amount: float = 1) -> None:
        await self.limiter.acquire(amount)
        emit(Kind.LIMITER_ADMITTED)

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc: object) -> None:
        return None


def dashboard_service() -> Service:
    """The service of the dashboard: long-tailed latency (median 0.15 s), 2% errors, and the outage."""
    return Service(seed=10, faults=Faults(latency=Latency.lognormal(0.15, 0.6), error_rate=0.02, outages=OUTAGES))


@picture_run("ResilientClient")
def dashboard_run(client_class: Any) -> VirtualRun[Any]:
    """``CALLERS`` callers, each calling ``client.get`` for an item of its own every 0.5 s for ``DURATION``
    seconds, through one ``client_class`` with the settings above and a fallback that answers None. The
    value: how many calls were answered by the service and by the fallback."""
    service = dashboard_service()
    tally = {"answered": 0, "fallback": 0}

    async def caller(client: Any, number: int) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(number * 0.5 / CALLERS)
        n = 0
        while loop.time() < DURATION:
            n += 1
            started = loop.time()
            emit(Kind.CALL_START, caller=number)
            response = await client.get(f"/items/{number * 10_000 + n}")
            outcome = "fallback" if response is None else "answered"
            tally[outcome] += 1
            emit(Kind.CALL_END, caller=number, latency=loop.time() - started, outcome=outcome)
            await sleep_until(started + 0.5)

    async def main() -> dict[str, int]:
        async with service.client() as http:
            client = client_class(
                http,
                ClientPolicy(delays=jittered_delays(base=0.25, cap=2.0, seed=10), **POLICY),
                breaker_factory=breakers_of(*BREAKER),
                limiter_factory=lambda: CountingLimiter(*RATE),
                fallback=lambda url, error: None,
            )
            async with asyncio.TaskGroup() as group:
                for number in range(CALLERS):
                    group.create_task(caller(client, number), name=f"caller-{number}")
        return tally

    return run_virtual(main, deadline=DURATION + 60, wall_limit=60.0)
