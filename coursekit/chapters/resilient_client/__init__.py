"""Chapter 10, A resilient HTTP client: the names its notebook imports.

The core names come from :mod:`coursekit`; this package's modules are its parts (see
:mod:`coursekit.chapters`)."""

from coursekit.chapters.circuit_breaker.given import CircuitOpenError
from coursekit.chapters.resilient_client.checks import (
    check_admit_links,
    check_attempt,
    check_breaker_for,
    check_fetch_deadline,
    check_fetch_fast_fail,
    check_fetch_retries,
    check_fetch_retry_after,
    check_fetch_shares_layers,
    check_fetch_timeouts_count,
    check_get_bulkhead,
    check_get_cache,
    check_get_fallback,
    check_limiter_made_once,
)
from coursekit.chapters.resilient_client.given import (
    Breaker,
    ClientPolicy,
    FailedAnswer,
    Limiter,
    LoopClockBreaker,
    breakers_of,
    delays_of,
    host_of,
    is_failed_answer,
    jittered_delays,
    retry_after_seconds,
)
from coursekit.chapters.resilient_client.pictures import OUTAGES, dashboard_run
from coursekit.chapters.resilient_client.plots import show_dashboard

__all__ = [
    "Breaker",
    "Limiter",
    "delays_of",
    "retry_after_seconds",
    "CircuitOpenError",
    "ClientPolicy",
    "FailedAnswer",
    "LoopClockBreaker",
    "OUTAGES",
    "breakers_of",
    "check_admit_links",
    "check_attempt",
    "check_breaker_for",
    "check_fetch_deadline",
    "check_fetch_fast_fail",
    "check_fetch_retries",
    "check_fetch_retry_after",
    "check_fetch_shares_layers",
    "check_fetch_timeouts_count",
    "check_get_bulkhead",
    "check_get_cache",
    "check_get_fallback",
    "check_limiter_made_once",
    "dashboard_run",
    "host_of",
    "is_failed_answer",
    "jittered_delays",
    "show_dashboard",
]
