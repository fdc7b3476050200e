"""Chapter 3's picture runs: a micro-batcher under three arrival patterns, behind a slow handler
and beside document 000's lock, and chunks with bounded concurrency."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from coursekit.chapters.batching.given import caller_reports, serve
from coursekit.traces import picture_run
from coursekit.virtual_time import VirtualRun, run_virtual
from coursekit.workload import BatchWorkload

# (time, item): one caller each. steady: one every 0.15 s; bursts: 7 close together every 2 s;
# quiet: an item now and then.
PATTERNS: dict[str, list[tuple[float, int]]] = {
    "steady": [(n * 15 / 100, n) for n in range(20)],
    "bursts": [(burst * 2 + n / 50, burst * 10 + n) for burst in range(3) for n in range(7)],
    "quiet": [(0.0, 1), (1.7, 2), (2.1, 3), (4.0, 4)],
}
LOCK_DEMO_ARRIVALS = [(n, n / 10) for n in range(6)]  # (item, time), as caller_reports takes them


def pattern_run(make_batcher: Callable[..., Any], pattern: str, handler_time: float = 0.3) -> VirtualRun[Any]:
    """The callers of ``PATTERNS[pattern]``, batch_size=5, max_wait=0.5 s, a handler of ``handler_time`` s."""
    work = BatchWorkload(handler_time)
    return run_virtual(serve(make_batcher, PATTERNS[pattern], work, batch_size=5, max_wait=0.5))


@picture_run("MicroBatcher")
def steady_run(make_batcher: Callable[..., Any]) -> VirtualRun[Any]:
    return pattern_run(make_batcher, "steady")


@picture_run("MicroBatcher")
def bursts_run(make_batcher: Callable[..., Any]) -> VirtualRun[Any]:
    return pattern_run(make_batcher, "bursts")


@picture_run("MicroBatcher")
def quiet_run(make_batcher: Callable[..., Any]) -> VirtualRun[Any]:
    return pattern_run(make_batcher, "quiet")


@picture_run("MicroBatcher")
def slow_handler_run(make_batcher: Callable[..., Any]) -> VirtualRun[Any]:
    """The bursts behind a handler slower (1.5 s) than max_wait."""
    return pattern_run(make_batcher, "bursts", handler_time=1.5)


@picture_run("MicroBatcher")
def lock_demo_run(make_batcher: Callable[..., Any]) -> VirtualRun[Any]:
    """Six callers, one every 0.1 s, batch_size=3, max_wait=0.5 s, a 2 s handler: what each caller saw."""

    async def main() -> list[str]:
        async with make_batcher(BatchWorkload(2.0), batch_size=3, max_wait=0.5) as batcher:
            return await caller_reports(batcher.submit, LOCK_DEMO_ARRIVALS)

    return run_virtual(main)


@picture_run("process_in_chunks")
def chunks_run(process_in_chunks: Callable[..., Any]) -> VirtualRun[Any]:
    """30 items in chunks of 3, at most 4 calls at once; chunks starting with a multiple of 9 take 2 s."""
    work = BatchWorkload(lambda chunk: 2.0 if chunk[0] % 9 == 0 else 0.5)
    return run_virtual(lambda: process_in_chunks(list(range(30)), work, chunk_size=3, concurrency=4))


__all__ = [
    "LOCK_DEMO_ARRIVALS",
    "PATTERNS",
    "bursts_run",
    "chunks_run",
    "lock_demo_run",
    "pattern_run",
    "quiet_run",
    "slow_handler_run",
    "steady_run",
]
