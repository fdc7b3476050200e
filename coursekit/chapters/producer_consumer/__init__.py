"""Chapter 1, Producer/consumer: the names its notebook imports.

The core names come from :mod:`coursekit`; this package's modules are its parts (see
:mod:`coursekit.chapters`)."""

from coursekit.chapters.producer_consumer.checks import (
    check_consumer,
    check_consumer_cancelled,
    check_run_pipeline,
    check_run_pipeline_cancelled,
    check_run_pipeline_reused,
    check_serve,
    check_serve_cancelled,
    check_serve_reused,
)
from coursekit.chapters.producer_consumer.pictures import pipeline_run, serve_run
from coursekit.chapters.producer_consumer.plots import show_queue_depth
from coursekit.plots import show_busy_timeline
from coursekit.workload import Workload, count_primes

__all__ = [
    "Workload",
    "check_consumer",
    "check_consumer_cancelled",
    "check_run_pipeline",
    "check_run_pipeline_cancelled",
    "check_run_pipeline_reused",
    "check_serve",
    "check_serve_cancelled",
    "check_serve_reused",
    "count_primes",
    "pipeline_run",
    "serve_run",
    "show_busy_timeline",
    "show_queue_depth",
]
