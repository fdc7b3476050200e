"""What chapter 2's runs did, read from their events: the measures its checks and pictures share.

Shared measures (in flight, idle slots, busy intervals) are in :mod:`coursekit.analysis`."""

from __future__ import annotations

from coursekit.events import Event, Kind


def jobs_waiting(events: list[Event]) -> tuple[list[float], list[int]]:
    """(times, counts): jobs submitted (``job.submitted``) whose handler call has not started
    (``work.start``), at each instant the count changed; the count after the last change of
    an instant is what counts. A job that never starts (skipped, cancelled) keeps waiting."""
    count = 0
    count_at: dict[float, int] = {0.0: 0}
    for event in events:
        if event.kind in (Kind.JOB_SUBMITTED, Kind.WORK_START):
            count += 1 if event.kind == Kind.JOB_SUBMITTED else -1
            count_at[event.time or 0.0] = count
    return list(count_at), list(count_at.values())
