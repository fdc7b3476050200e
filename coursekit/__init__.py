"""The course's core, shared by every chapter: virtual time, events, traced queues, the check chain,
and the few helpers every notebook uses. A chapter's own names come from its package,
``coursekit.chapters.<topic>`` (see :mod:`coursekit.chapters`)."""

from coursekit.check_my_work import check_my_work
from coursekit.checks import Chain, CheckFailed
from coursekit.events import Event, Kind, emit, recording
from coursekit.exercise_gate import exercise_done
from coursekit.queues import STOP, TracedQueue
from coursekit.traces import reference_run
from coursekit.virtual_time import RunFailed, VirtualRun, WallClockExceeded, run_virtual

__all__ = [
    "Chain",
    "CheckFailed",
    "Event",
    "Kind",
    "RunFailed",
    "STOP",
    "TracedQueue",
    "VirtualRun",
    "WallClockExceeded",
    "check_my_work",
    "emit",
    "exercise_done",
    "recording",
    "reference_run",
    "run_virtual",
]
