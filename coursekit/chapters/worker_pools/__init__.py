"""Chapter 2, Worker pools and concurrency limits: the names its notebook imports.

The core names come from :mod:`coursekit`; this package's modules are its parts (see
:mod:`coursekit.chapters`)."""

from coursekit.analysis import peak_in_flight
from coursekit.chapters.worker_pools.checks import (
    check_limited_map,
    check_limited_map_cancelled,
    check_limited_map_failure,
    check_limited_map_reused,
    check_pool_backpressure,
    check_pool_cancel,
    check_pool_cancelled,
    check_pool_errors,
    check_pool_results,
    check_pool_reused,
    check_pool_shutdown,
    check_task_manager,
)
from coursekit.chapters.worker_pools.given import BackgroundJobs, Job, JobStatus
from coursekit.chapters.worker_pools.pictures import LIMIT, limited_map_run, manager_run, pool_run, varied_durations
from coursekit.plots import show_busy_timeline, show_in_flight
from coursekit.workload import Workload

__all__ = [
    "BackgroundJobs",
    "Job",
    "JobStatus",
    "LIMIT",
    "Workload",
    "check_limited_map",
    "check_limited_map_cancelled",
    "check_limited_map_failure",
    "check_limited_map_reused",
    "check_pool_backpressure",
    "check_pool_cancel",
    "check_pool_cancelled",
    "check_pool_errors",
    "check_pool_results",
    "check_pool_reused",
    "check_pool_shutdown",
    "check_task_manager",
    "limited_map_run",
    "manager_run",
    "peak_in_flight",
    "pool_run",
    "show_busy_timeline",
    "show_in_flight",
    "varied_durations",
]
