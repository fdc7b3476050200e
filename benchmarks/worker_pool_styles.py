"""Per-job overhead of each way to run jobs under a concurrency limit, on the real event loop.

    .venv/bin/python benchmarks/worker_pool_styles.py [--jobs 10000] [--limit 100] [--runs 7]

Each style runs ``--jobs`` no-op jobs (``async def job(i): return i``) with at most
``--limit`` in flight; the job does no work, so the time measured is the machinery
alone. Every style runs ``--runs`` times on a fresh ``asyncio.run`` loop (the styles
interleaved, after one warm-up round); the table shows the median wall-clock time
and that time divided by the number of jobs. Wall clock, real loop: the figures
depend on the machine and its load, so compare rows of one run, not across machines.

The styles are chapter 2's own code: document 003's first three versions and the
aiometer / anyio adapters are run from the chapter's cells named ``pool-styles`` and
``library-maps``; ``WorkerPool`` and ``limited_map`` (003's fourth version) are the
reference solutions.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from solutions.worker_pools import WorkerPool, limited_map  # noqa: E402  (after the path is set)
from tools.chapter_source import chapters, named_cell  # noqa: E402

Func = Callable[[int], Awaitable[int]]
Style = Callable[[Func, range, int], Coroutine[Any, Any, list[int]]]


def chapter_cells(*names: str) -> dict[str, Any]:
    """The names that chapter 2's cells ``names`` define, run in order (they use asyncio and anyio,
    which the chapter imports before them)."""
    (chapter,) = chapters(["ch02"])
    namespace: dict[str, Any] = {"asyncio": asyncio, "anyio": anyio}
    for name in names:
        exec(compile(named_cell(chapter, name), f"{chapter.source.name}:{name}", "exec"), namespace)
    return namespace


async def job(i: int) -> int:
    return i


async def unlimited_gather(func: Func, items: range, limit: int) -> list[int]:
    """Baseline without a limit: one task per item, all at once."""
    return list(await asyncio.gather(*(func(i) for i in items)))


async def worker_pool(func: Func, items: range, limit: int) -> list[int]:
    """The chapter's WorkerPool: ``limit`` workers on a queue, one future per job."""
    async with WorkerPool(func, workers=limit) as pool:
        futures = [await pool.submit(item) for item in items]
    return [future.result() for future in futures]


CELLS = chapter_cells("pool-styles", "library-maps")
STYLES: dict[str, Style] = {
    "no limit: gather (baseline)": unlimited_gather,
    "003 v1: hand-managed task set": CELLS["style_task_set"],
    "003 v2: Semaphore + batches": CELLS["style_batches"],
    "003 v3: queue + workers": CELLS["style_queue_workers"],
    "WorkerPool (exercise 2)": worker_pool,
    "003 v4: TaskGroup + Semaphore (limited_map)": limited_map,
    "aiometer.run_all(max_at_once)": CELLS["aiometer_map"],
    "anyio CapacityLimiter + task group": CELLS["anyio_map"],
}


def measure(style: Style, jobs: int, limit: int) -> float:
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
