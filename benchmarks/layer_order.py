"""What the resilient client's layers cost per call, and the two orders of chapter 10, on the real clock.

    .venv/bin/python benchmarks/layer_order.py [--calls 2000] [--runs 5]

Each row makes ``--calls`` GETs, one after another, to the course's service in-process (httpx's
ASGI transport, no faults, no latency), on the real event loop:

- ``bare httpx``: ``await client.get(url)``, the peer every other row is compared with;
- ``retry outside the breaker``: per attempt, purgatory's breaker (on the loop's clock), then an
  aiolimiter admission and ``asyncio.timeout`` around the request (the order of the chapter's
  ``fetch``);
- ``breaker outside the retry``: the same layers with the breaker around the whole retry loop
  (002's comment);
- ``ResilientClient (reference)``: the chapter 10 reference's ``get``, with the same breaker and
  limiter, a bulkhead and no cache; and with a cache of 60 s, where every call after the first
  is a hit.

The time per call is the median of ``--runs`` runs (rows interleaved, after a warm-up round).
Wall clock: compare the rows of one run, not runs on different machines. With nothing failing,
both orders cost the same; the order matters when the service fails (the chapter measures that
on the virtual clock).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from aiolimiter import AsyncLimiter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from coursekit.chapters.circuit_breaker.given import CircuitOpenError  # noqa: E402  (after the path is set)
from coursekit.chapters.resilient_client.given import (
    ClientPolicy,
    FailedAnswer,
    LoopClockBreaker,
    breakers_of,
    is_failed_answer,
)
from coursekit.service import Faults, Latency, Service  # noqa: E402
from solutions.resilient_client import ResilientClient  # noqa: E402

Row = Callable[[httpx.AsyncClient, int], Awaitable[None]]


async def retrying(attempt: Callable[[], Awaitable[Any]], attempts: int = 3) -> Any:
    for number in range(1, attempts + 1):
        try:
            return await attempt()
        except CircuitOpenError:
            raise
        except (FailedAnswer, TimeoutError):
            if number == attempts:
                raise
            await asyncio.sleep(0.1)
    return None


def layered(order: str) -> Row:
    async def row(http: httpx.AsyncClient, calls: int) -> None:
        breaker = LoopClockBreaker("service.test", 5, 30.0)
        limiter = AsyncLimiter(10**9, 1.0)

        async def attempt() -> httpx.Response:
            await limiter.acquire()
            async with asyncio.timeout(5.0):
                response = await http.get("/items/1")
            if is_failed_answer(response):
                raise FailedAnswer(response)
            return response

        for _ in range(calls):
            if order == "retry outside":
                await retrying(lambda: breaker.call(attempt))
            else:
                await breaker.call(lambda: retrying(attempt))

    return row


async def bare(http: httpx.AsyncClient, calls: int) -> None:
    for _ in range(calls):
        await http.get("/items/1")


def reference(cache_ttl: float) -> Row:
    async def row(http: httpx.AsyncClient, calls: int) -> None:
        client = ResilientClient(
            http,
            ClientPolicy(attempt_timeout=5.0, cache_ttl=cache_ttl),
            breaker_factory=breakers_of(5, 30.0),
            limiter_factory=lambda: AsyncLimiter(10**9, 1.0),
        )
        for _ in range(calls):
            await client.get("/items/1")

    return row


ROWS: dict[str, Row] = {
    "bare httpx": bare,
    "retry outside the breaker": layered("retry outside"),
    "breaker outside the retry": layered("breaker outside"),
    "ResilientClient (reference)": reference(0.0),
    "ResilientClient, cache hits": reference(60.0),
}


async def timed(row: Row, calls: int) -> float:
    async with Service(seed=1, faults=Faults(latency=Latency.fixed(0.0))).client() as http:
        started = time.perf_counter()
        await row(http, calls)
        return time.perf_counter() - started


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {name: [] for name in ROWS}
    for row in ROWS.values():  # warm-up
        asyncio.run(timed(row, max(1, args.calls // 10)))
    for _ in range(args.runs):
        for name, row in ROWS.items():
            times[name].append(asyncio.run(timed(row, args.calls)))
    base = statistics.median(times["bare httpx"]) / args.calls
    print(f"{args.calls} calls, median of {args.runs} runs, in-process service (no network)")
    print(f"{'row':<30} {'us/call':>9} {'vs bare':>8}")
    for name in ROWS:
        per_call = statistics.median(times[name]) / args.calls
        print(f"{name:<30} {per_call * 1e6:>9.1f} {per_call / base:>7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
