"""Per-acquire overhead of a rate limiter that never has to wait: the chapter 8 reference next to the libraries.

    .venv/bin/python benchmarks/limiter_overhead.py [--calls 50000] [--runs 7] [--clients 100000]

Each row acquires ``--calls`` times from one limiter whose rate and capacity are so large
that no call ever waits, on the real event loop: the time measured is the limiter's
bookkeeping alone. The overhead per acquire is the median of ``--runs`` runs (the rows
interleaved, after a warm-up round) minus the same loop doing nothing, divided by
``--calls``. Rows: the reference ``TokenBucket.acquire`` (a lock and a refill per call) and
``PerClientLimiter.try_acquire``; aiolimiter's ``AsyncLimiter.acquire`` (a leaky bucket); pyrate-limiter's
``Limiter.try_acquire`` (a sliding log; sync, ``blocking=False``); limits' sliding-window counter
``hit`` (sync, in memory). Wall clock: compare the rows of one run, not runs on different machines.
The goal for the reference bucket is at most 1.0x aiolimiter; the script reports the ratio, it does
not assert it.

Then the memory a per-client limiter holds per tracked client (tracemalloc), for ``--clients``
distinct clients all within ``idle_after``: the reference ``PerClientLimiter`` (a tuple per client
in an OrderedDict) next to a dict of one small bucket object per client (document 004's shape).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from aiolimiter import AsyncLimiter
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter
from pyrate_limiter import Duration, Limiter, Rate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from solutions.rate_limiting import PerClientLimiter, TokenBucket  # noqa: E402  (after the path is set)

HUGE = 10**12  # a rate and capacity no benchmark reaches: nothing ever waits


async def bare(calls: int) -> None:
    for _ in range(calls):
        pass


async def bare_await(calls: int) -> None:
    async def nothing() -> None:
        return None

    for _ in range(calls):
        await nothing()


async def reference(calls: int) -> None:
    bucket = TokenBucket(float(HUGE), HUGE)
    for _ in range(calls):
        await bucket.acquire()


async def reference_per_client(calls: int) -> None:
    limiter = PerClientLimiter(float(HUGE), HUGE, 1.0)
    for _ in range(calls):
        limiter.try_acquire("client")


async def aiolimiter(calls: int) -> None:
    limiter = AsyncLimiter(HUGE, 1)
    for _ in range(calls):
        await limiter.acquire()


async def pyrate(calls: int) -> None:
    limiter = Limiter(Rate(HUGE, Duration.SECOND))
    for _ in range(calls):
        limiter.try_acquire("pyrate", blocking=False)


async def limits_counter(calls: int) -> None:
    strategy = SlidingWindowCounterRateLimiter(MemoryStorage())
    item = RateLimitItemPerSecond(HUGE)
    for _ in range(calls):
        strategy.hit(item, "limits")


Body = Callable[[int], Coroutine[Any, Any, None]]
ROWS: dict[str, tuple[Body, Body]] = {
    "reference TokenBucket.acquire": (reference, bare_await),
    "aiolimiter AsyncLimiter.acquire": (aiolimiter, bare_await),
    "reference PerClientLimiter.try_acquire": (reference_per_client, bare),
    "pyrate-limiter try_acquire (sync)": (pyrate, bare),
    "limits sliding-window counter hit": (limits_counter, bare),
}


def timed(body: Body, calls: int) -> float:
    started = time.perf_counter()
    asyncio.run(body(calls))
    return time.perf_counter() - started


def bytes_per_client(clients: int) -> tuple[float, float]:
    class SmallBucket:
        def __init__(self) -> None:
            self.tokens, self.updated = 8.0, 0.0

    async def reference_clients() -> int:
        limiter = PerClientLimiter(4.0, 8, 3600.0)
        tracemalloc.start()
        for n in range(clients):
            limiter.try_acquire(f"client-{n}")
        size, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return size

    def dict_of_buckets() -> int:
        tracemalloc.start()
        buckets = {f"client-{n}": SmallBucket() for n in range(clients)}
        size, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del buckets
        return size

    return asyncio.run(reference_clients()) / clients, dict_of_buckets() / clients


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--clients", type=int, default=100_000)
    args = parser.parse_args(argv)
    bodies = {body for pair in ROWS.values() for body in pair}
    times: dict[Body, list[float]] = {body: [] for body in bodies}
    for body in bodies:
        timed(body, min(args.calls, 1000))  # warm-up
    for _ in range(args.runs):
        for body in bodies:
            times[body].append(timed(body, args.calls))
    median = {body: statistics.median(values) for body, values in times.items()}
    overhead = {name: (median[body] - median[base]) / args.calls * 1e6 for name, (body, base) in ROWS.items()}
    print(f"{args.calls} acquires that never wait, median of {args.runs} runs, Python {sys.version.split()[0]}")
    print(f"{'limiter':<40} {'overhead per acquire':>21} {'vs aiolimiter':>14}")
    base = overhead["aiolimiter AsyncLimiter.acquire"]
    for name, micros in overhead.items():
        print(f"{name:<40} {micros:>18.2f} µs {micros / base:>13.2f}x")
    ratio = overhead["reference TokenBucket.acquire"] / base
    verdict = "meets" if ratio <= 1.0 else "misses"
    print(f"reference TokenBucket / aiolimiter: {ratio:.2f}x ({verdict} the goal of <= 1.0x)")
    reference_bytes, dict_bytes = bytes_per_client(args.clients)
    print(
        f"memory per tracked client ({args.clients} clients): reference PerClientLimiter {reference_bytes:.0f} bytes, "
        f"a dict of bucket objects {dict_bytes:.0f} bytes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
