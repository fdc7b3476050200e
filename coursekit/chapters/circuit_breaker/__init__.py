"""Chapter 7, Circuit breaker: the names its notebook imports.

The core names come from :mod:`coursekit`; this package's modules are its parts (see
:mod:`coursekit.chapters`)."""

from coursekit.chapters.circuit_breaker.checks import (
    check_breaker_cancelled,
    check_breaker_closes,
    check_breaker_counts,
    check_breaker_defaults,
    check_breaker_half_open_limit,
    check_breaker_late_calls,
    check_breaker_rejects_while_open,
    check_breaker_reopens,
    check_breaker_trial_outcomes,
    check_breaker_trips,
    check_fetch_item,
    check_fetch_item_open,
    check_protected,
)
from coursekit.chapters.circuit_breaker.given import BreakerState, CircuitOpenError, UpstreamError
from coursekit.chapters.circuit_breaker.pictures import OUTAGES, breaker_run
from coursekit.chapters.circuit_breaker.plots import show_breaker_states
from coursekit.chapters.timeouts.given import Operation, OperationFailed

__all__ = [
    "BreakerState",
    "CircuitOpenError",
    "OUTAGES",
    "Operation",
    "OperationFailed",
    "UpstreamError",
    "breaker_run",
    "check_breaker_cancelled",
    "check_breaker_closes",
    "check_breaker_counts",
    "check_breaker_defaults",
    "check_breaker_half_open_limit",
    "check_breaker_late_calls",
    "check_breaker_rejects_while_open",
    "check_breaker_reopens",
    "check_breaker_trial_outcomes",
    "check_breaker_trips",
    "check_fetch_item",
    "check_fetch_item_open",
    "check_protected",
    "show_breaker_states",
]
