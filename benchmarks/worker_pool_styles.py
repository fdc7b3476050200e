#!/usr/bin/env python3
"""Per-job overhead of each way to run jobs under a concurrency limit, on the real event loop.

    .venv/bin/python benchmarks/worker_pool_styles.py [--jobs 10000] [--limit 100] [--runs 7]

Each style runs ``--jobs`` no-op jobs (``async def job(i): return i``) with at most
``--limit`` in flight; the job does no work, so the time measured is the machinery
alone. Every style runs ``--runs`` times on a fresh ``asyncio.run`` loop (the styles
interleaved, after one warm-up round); the table shows the median wall-clock time
and that time divided by the number of jobs. Wall clock, real loop: the figures
depend on the machine and its load, so compare rows of one run, not across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiometer
import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from solutions.worker_pools import WorkerPool, limited_map  # noqa: E402

Func = Callable[[int], Awaitable[int]]


async def job(i: int) -> int:
    return i


async def unlimited_gather(func: Func, items: range, limit: int) -> list[int]:
    """Baseline without a limit: one task per item, all at once."""
    return list(await asyncio.gather(*(func(i) for i in items)))


async def task_set(func: Func, items: range, limit: int) -> list[int]:
    """Document 003, version 1: a hand-managed set of tasks, topped up as tasks finish."""
    results: list[int] = [0] * len(items)
    running: set[asyncio.Task[None]] = set()

    async def one(index: int, item: int) -> None:
        results[index] = await func(item)

    for index, item in enumerate(items):
        if len(running) >= limit:
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        running.add(asyncio.create_task(one(index, item)))
    for task in await asyncio.gather(*running, return_exceptions=True):
        if isinstance(task, BaseException):
            raise task
    return results


async def semaphore_batches(func: Func, items: range, limit: int) -> list[int]:
    """Document 003, version 2: a Semaphore, and gather() over batches of ``limit`` items."""
    semaphore = asyncio.Semaphore(limit)

    async def one(item: int) -> int:
        async with semaphore:
            return await func(item)

    results: list[int] = []
    for start in range(0, len(items), limit):
        results += await asyncio.gather(*(one(item) for item in items[start : start + limit]))
    return results


async def queue_workers(func: Func, items: range, limit: int) -> list[int]:
    """Document 003, version 3, done right: ``limit`` workers on a queue (the chapter's WorkerPool)."""
    async with WorkerPool(func, workers=limit) as pool:
        futures = [await pool.submit(item) for item in items]
    return [future.result() for future in futures]


async def taskgroup_semaphore(func: Func, items: range, limit: int) -> list[int]:
    """Document 003, version 4: TaskGroup + Semaphore (the chapter's limited_map)."""
    return await limited_map(func, items, limit)


async def aiometer_run_all(func: Func, items: range, limit: int) -> list[int]:
    return await aiometer.run_all([functools.partial(func, item) for item in items], max_at_once=limit)


async def anyio_capacity_limiter(func: Func, items: range, limit: int) -> list[int]:
    limiter = anyio.CapacityLimiter(limit)
    results: list[int] = [0] * len(items)

    async def one(index: int, item: int) -> None:
        async with limiter:
            results[index] = await func(item)

    async with anyio.create_task_group() as group:
        for index, item in enumerate(items):
            group.start_soon(one, index, item)
    return results


STYLES: dict[str, Callable[[Func, range, int], Awaitable[list[int]]]] = {
    "no limit: gather (baseline)": unlimited_gather,
    "003 v1: hand-managed task set": task_set,
    "003 v2: Semaphore + batches": semaphore_batches,
    "003 v3: queue + workers (WorkerPool)": queue_workers,
    "003 v4: TaskGroup + Semaphore (limited_map)": taskgroup_semaphore,
    "aiometer.run_all(max_at_once)": aiometer_run_all,
    "anyio CapacityLimiter + task group": anyio_capacity_limiter,
}


def measure(style: Callable[[Func, range, int], Awaitable[list[int]]], jobs: int, limit: int) -> float:
    items = range(jobs)
    started = time.perf_counter()
    results = asyncio.run(style(job, items, limit))
    elapsed = time.perf_counter() - started
    assert results == list(items), "wrong results"
    return elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    for style in STYLES.values():  # warm-up: imports, caches
        measure(style, min(args.jobs, 1000), args.limit)
    times: dict[str, list[float]] = {name: [] for name in STYLES}
    for _ in range(args.runs):
        for name, style in STYLES.items():
            times[name].append(measure(style, args.jobs, args.limit))
    print(
        f"{args.jobs} no-op jobs, limit {args.limit}, median of {args.runs} runs "
        f"(Python {sys.version.split()[0]}, asyncio.run, wall clock)"
    )
    width = max(map(len, STYLES))
    print(f"{'style':<{width}}  {'median ms':>9}  {'µs/job':>7}  {'min..max ms':>13}")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(
            f"{name:<{width}}  {median * 1e3:9.1f}  {median / args.jobs * 1e6:7.1f}  "
            f"{min(samples) * 1e3:6.1f}..{max(samples) * 1e3:<6.1f}"
        )


if __name__ == "__main__":
    main()
