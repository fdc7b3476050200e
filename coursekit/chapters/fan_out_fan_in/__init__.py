"""Chapter 4, Fan-out / fan-in: the names its notebook imports.

The core names come from :mod:`coursekit`; this package's modules are its parts (see
:mod:`coursekit.chapters`)."""

from coursekit.chapters.fan_out_fan_in.checks import (
    check_fetch_all,
    check_first_success,
    check_merge,
    check_merge_cancelled,
    check_run_all,
)
from coursekit.chapters.fan_out_fan_in.pictures import fetch_all_run, race_run, run_all_run
from coursekit.plots import show_busy_timeline, show_in_flight
from coursekit.workload import ItemFailed, Workload

__all__ = [
    "ItemFailed",
    "Workload",
    "check_fetch_all",
    "check_first_success",
    "check_merge",
    "check_merge_cancelled",
    "check_run_all",
    "fetch_all_run",
    "race_run",
    "run_all_run",
    "show_busy_timeline",
    "show_in_flight",
]
