"""Chapter 5, Timeouts and cancellation: the names its notebook imports.

The core names come from :mod:`coursekit`; this package's modules are its parts (see
:mod:`coursekit.chapters`)."""

from coursekit.chapters.timeouts.checks import (
    check_call_with_fallback,
    check_call_with_fallback_cancelled,
    check_call_with_fallback_errors,
    check_deadline_child,
    check_deadline_clock,
    check_deadline_scope,
    check_shutdown,
    check_shutdown_nothing,
    check_shutdown_stubborn,
)
from coursekit.chapters.timeouts.given import Operation
from coursekit.chapters.timeouts.pictures import GRACE, LOOKUP_TIMEOUT, fallback_run, shutdown_run
from coursekit.plots import show_busy_timeline

__all__ = [
    "GRACE",
    "LOOKUP_TIMEOUT",
    "Operation",
    "check_call_with_fallback",
    "check_call_with_fallback_cancelled",
    "check_call_with_fallback_errors",
    "check_deadline_child",
    "check_deadline_clock",
    "check_deadline_scope",
    "check_shutdown",
    "check_shutdown_nothing",
    "check_shutdown_stubborn",
    "fallback_run",
    "show_busy_timeline",
    "shutdown_run",
]
