"""Chapter 3, Batching: the names its notebook imports.

The core names come from :mod:`coursekit`; this package's modules are its parts (see
:mod:`coursekit.chapters`)."""

from coursekit.chapters.batching.checks import (
    check_batcher_close,
    check_batcher_failures,
    check_batcher_flushes,
    check_batcher_results,
    check_batcher_slow_handler,
    check_collect_batch,
    check_deliver,
    check_process_in_chunks,
)
from coursekit.chapters.batching.given import BatchHandler, Entry, caller_reports, serve
from coursekit.chapters.batching.pictures import LOCK_DEMO_ARRIVALS, chunks_run, slow_handler_run
from coursekit.chapters.batching.plots import show_batch_tradeoff, show_batches
from coursekit.plots import show_in_flight
from coursekit.workload import BatchWorkload, Workload

__all__ = [
    "BatchHandler",
    "BatchWorkload",
    "Entry",
    "LOCK_DEMO_ARRIVALS",
    "Workload",
    "caller_reports",
    "check_batcher_close",
    "check_batcher_failures",
    "check_batcher_flushes",
    "check_batcher_results",
    "check_batcher_slow_handler",
    "check_collect_batch",
    "check_deliver",
    "check_process_in_chunks",
    "chunks_run",
    "serve",
    "show_batch_tradeoff",
    "show_batches",
    "show_in_flight",
    "slow_handler_run",
]
