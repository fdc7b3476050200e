"""Chapter 6, Retries and backoff: the names its notebook imports.

The core names come from :mod:`coursekit`; this package's modules are its parts (see
:mod:`coursekit.chapters`)."""

from coursekit.chapters.retries.checks import (
    check_backoff_delays,
    check_is_retryable_errors,
    check_is_retryable_responses,
    check_is_retryable_service,
    check_retry_after,
    check_retry_attempts,
    check_retry_backoff,
    check_retry_deadline,
    check_retry_not_retryable,
    check_retry_service,
)
from coursekit.chapters.retries.given import (
    Permanent,
    RetryBudget,
    RetryPolicy,
    ScriptedCall,
    Transient,
    delays_of,
    transient_or_busy,
)
from coursekit.chapters.retries.pictures import OUTAGE, clients_run
from coursekit.chapters.retries.plots import show_attempts, show_server_load

__all__ = [
    "Permanent",
    "ScriptedCall",
    "delays_of",
    "OUTAGE",
    "RetryBudget",
    "RetryPolicy",
    "Transient",
    "check_backoff_delays",
    "check_is_retryable_errors",
    "check_is_retryable_responses",
    "check_is_retryable_service",
    "check_retry_after",
    "check_retry_attempts",
    "check_retry_backoff",
    "check_retry_deadline",
    "check_retry_not_retryable",
    "check_retry_service",
    "clients_run",
    "show_attempts",
    "show_server_load",
    "transient_or_busy",
]
