"""Chapter 9, Latency statistics: the names its notebook imports.

The core names come from :mod:`coursekit`; this package's modules are its parts (see
:mod:`coursekit.chapters`)."""

from coursekit.chapters.latency_statistics.checks import (
    check_constant_rate_connections,
    check_constant_rate_from_intended,
    check_constant_rate_schedule,
    check_percentile_edges,
    check_percentile_linear,
    check_percentile_nearest_rank,
    check_recorder_basics,
    check_recorder_error_bound,
    check_recorder_memory,
)
from coursekit.chapters.latency_statistics.given import METHODS, StalledService, footprint, log_buckets, memory_budget
from coursekit.chapters.latency_statistics.pictures import RATE, STALLS, START, stall_run
from coursekit.chapters.latency_statistics.plots import show_cdf, show_coordinated_omission, show_latency_histogram

__all__ = [
    "METHODS",
    "RATE",
    "STALLS",
    "START",
    "StalledService",
    "check_constant_rate_connections",
    "check_constant_rate_from_intended",
    "check_constant_rate_schedule",
    "check_percentile_edges",
    "check_percentile_linear",
    "check_percentile_nearest_rank",
    "check_recorder_basics",
    "check_recorder_error_bound",
    "check_recorder_memory",
    "footprint",
    "log_buckets",
    "memory_budget",
    "show_cdf",
    "show_coordinated_omission",
    "show_latency_histogram",
    "stall_run",
]
