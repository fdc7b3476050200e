"""Shared helpers for the course: virtual time, events, traced queues, checks, plots."""

from coursekit.events import Event, emit, recording
from coursekit.queues import STOP, TracedQueue
from coursekit.virtual_time import RunFailed, VirtualRun, WallClockExceeded, run_virtual

__all__ = [
    "Event",
    "emit",
    "recording",
    "STOP",
    "TracedQueue",
    "RunFailed",
    "VirtualRun",
    "WallClockExceeded",
    "run_virtual",
]
