"""Chapter 8, Rate limiting: the names its notebook imports.

The core names come from :mod:`coursekit`; this package's modules are its parts (see
:mod:`coursekit.chapters`)."""

from coursekit.chapters.rate_limiting.checks import (
    check_bucket_amounts,
    check_bucket_burst,
    check_bucket_cancel,
    check_bucket_fifo,
    check_bucket_rate,
    check_log_limit,
    check_log_try,
    check_log_waiting,
    check_per_client_limits,
    check_per_client_memory,
)
from coursekit.chapters.rate_limiting.given import Decision, RateLimitMiddleware, bursty_arrivals, timed_acquire
from coursekit.chapters.rate_limiting.pictures import BUCKET, bucket_run, clients_run
from coursekit.chapters.rate_limiting.plots import show_admissions, show_bucket, show_tracked

__all__ = [
    "BUCKET",
    "Decision",
    "RateLimitMiddleware",
    "bucket_run",
    "bursty_arrivals",
    "check_bucket_amounts",
    "check_bucket_burst",
    "check_bucket_cancel",
    "check_bucket_fifo",
    "check_bucket_rate",
    "check_log_limit",
    "check_log_try",
    "check_log_waiting",
    "check_per_client_limits",
    "check_per_client_memory",
    "clients_run",
    "show_admissions",
    "show_bucket",
    "show_tracked",
    "timed_acquire",
]
