"""Per-call overhead of a circuit breaker in the closed state: the chapter 7 reference next to the libraries.

    .venv/bin/python benchmarks/breaker_overhead.py [--calls 50000] [--runs 7]

Each row calls a no-op ``--calls`` times through one breaker, in the closed state, on the
real event loop; the call does no work, so the time measured is the breaker alone. The
overhead per call is the median time of ``--runs`` runs (the rows interleaved, after a
warm-up round) minus the same loop of bare calls, divided by ``--calls``. pybreaker is
measured both ways it can be used: ``call`` around a plain function (its main use) and
``call_async`` around a coroutine function (through tornado's coroutines). Wall clock:
compare the rows of one run, not runs on different machines. The goal for the reference
is at most 1.0x pybreaker's ``call``; the script reports the ratio, it does not assert it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiobreaker  # type: ignore[import-untyped]
import purgatory
import pybreaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from solutions.circuit_breaker import CircuitBreaker  # noqa: E402  (after the path is set)


async def noop() -> int:
    return 1


def plain_noop() -> int:
    return 1


async def bare_async(calls: int) -> None:
    for _ in range(calls):
        await noop()


async def bare_plain(calls: int) -> None:
    for _ in range(calls):
        plain_noop()


async def reference(calls: int) -> None:
    breaker = CircuitBreaker(5, 30.0)
    for _ in range(calls):
        await breaker.call(noop)


async def pybreaker_call(calls: int) -> None:
    breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=30)
    for _ in range(calls):
        breaker.call(plain_noop)


async def pybreaker_call_async(calls: int) -> None:
    breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=30)
    for _ in range(calls):
        await breaker.call_async(noop)


async def aiobreaker_call(calls: int) -> None:
    breaker = aiobreaker.CircuitBreaker(fail_max=5, timeout_duration=timedelta(seconds=30))
    for _ in range(calls):
        await breaker.call_async(noop)


async def purgatory_call(calls: int) -> None:
    factory = purgatory.AsyncCircuitBreakerFactory(default_threshold=5, default_ttl=30)
    breaker = await factory.get_breaker("bench")
    for _ in range(calls):
        async with breaker:
            await noop()


ROWS: dict[str, tuple[Callable[[int], Coroutine[Any, Any, None]], Callable[[int], Coroutine[Any, Any, None]]]] = {
    "reference CircuitBreaker.call": (reference, bare_async),
    "pybreaker call (plain function)": (pybreaker_call, bare_plain),
    "pybreaker call_async (tornado)": (pybreaker_call_async, bare_async),
    "aiobreaker call_async": (aiobreaker_call, bare_async),
    "purgatory async with": (purgatory_call, bare_async),
}


def timed(body: Callable[[int], Coroutine[Any, Any, None]], calls: int) -> float:
    started = time.perf_counter()
    asyncio.run(body(calls))
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    bodies = {body for pair in ROWS.values() for body in pair}
    times: dict[Callable[[int], Coroutine[Any, Any, None]], list[float]] = {body: [] for body in bodies}
    for body in bodies:
        timed(body, min(args.calls, 1000))  # warm-up
    for _ in range(args.runs):
        for body in bodies:
            times[body].append(timed(body, args.calls))
    median = {body: statistics.median(values) for body, values in times.items()}
    overhead = {name: (median[body] - median[bare]) / args.calls * 1e6 for name, (body, bare) in ROWS.items()}
    print(f"{args.calls} calls in the closed state, median of {args.runs} runs, Python {sys.version.split()[0]}")
    print(f"{'breaker':<34} {'overhead per call':>18} {'vs pybreaker call':>18}")
    base = overhead["pybreaker call (plain function)"]
    for name, micros in overhead.items():
        print(f"{name:<34} {micros:>15.2f} µs {micros / base:>17.2f}x")
    ratio = overhead["reference CircuitBreaker.call"] / base
    verdict = "meets" if ratio <= 1.0 else "misses"
    print(f"reference / pybreaker call: {ratio:.2f}x ({verdict} the goal of <= 1.0x)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
