"""What a run did, computed from the events it emitted: the one place that reads events.

Checks and pictures both use these functions, so a picture shows exactly what a check
measured. Times are the loop's clock as the events carry it (virtual seconds under
:func:`coursekit.virtual_time.run_virtual`); an event emitted with no loop running
counts as t = 0. Where several events share one instant, the state *after* the last
of them is what counts, unless a function says otherwise.

Event kinds read here: ``work.start`` / ``work.end`` (a handler call; batch calls carry
``size``), ``queue.put`` / ``queue.get`` (with ``depth``), ``request.start`` /
``request.end`` (HTTP requests), ``batch.submit`` / ``batch.result``, ``job.submitted``
(a job handed to a worker pool), ``breaker.state`` (a circuit breaker's transition: ``old``,
``new``), ``breaker.rejected``, ``server.response`` (the course's HTTP service),
``queue.task_done``, ``check.raised`` / ``check.returned`` (a check's scenario saw the
function under test end).
"""

from __future__ import annotations

import itertools
from typing import Any

from coursekit.events import Event, Kind


def in_flight(events: list[Event]) -> tuple[list[float], list[int]]:
    """(times, counts): how many handle() calls were running after each work.start/work.end.

    Changes at the same virtual instant count as one (the count after the last)."""
    count = 0
    count_at: dict[float, int] = {0.0: 0}
    for event in events:
        if event.kind in (Kind.WORK_START, Kind.WORK_END):
            count += 1 if event.kind == Kind.WORK_START else -1
            count_at[event.time or 0.0] = count
    return list(count_at), list(count_at.values())


def peak_in_flight(events: list[Event], start: str = Kind.WORK_START, end: str = Kind.WORK_END) -> int:
    """The most ``start``..``end`` spans (by default handle() calls) open at once, counting
    every start before ends at the same instant."""
    count = peak = 0
    for event in events:
        if event.kind == start:
            count += 1
            peak = max(peak, count)
        elif event.kind == end:
            count -= 1
    return peak


def busy_intervals(events: list[Event]) -> dict[str, list[tuple[float, float, str]]]:
    """Per task: (start, end, outcome) of each work.start -> work.end, in start order."""
    open_work: dict[tuple[str | None, Any], float] = {}
    intervals: dict[str, list[tuple[float, float, str]]] = {}
    for event in events:
        key = (event.task, event.fields.get("item"))
        if event.kind == Kind.WORK_START:
            open_work[key] = event.time or 0.0
        elif event.kind == Kind.WORK_END and key in open_work:
            start = open_work.pop(key)
            intervals.setdefault(event.task or "?", []).append((start, event.time or 0.0, event["outcome"]))
    return intervals


def idle_slots(events: list[Event], total: int, limit: int) -> tuple[float, int, int] | None:
    """The first instant (time, in flight, waiting) when fewer than ``limit`` calls ran while items waited."""
    started = running = 0
    by_time = itertools.groupby((e for e in events if e.kind in (Kind.WORK_START, Kind.WORK_END)), key=lambda e: e.time)
    for time, group in by_time:
        for event in group:
            started += event.kind == Kind.WORK_START
            running += 1 if event.kind == Kind.WORK_START else -1
        waiting = total - started
        if waiting and running < limit:
            return time or 0.0, running, waiting
    return None


def ended_after(events: list[Event], marker: str) -> list[Event]:
    """The ``work.end`` events after the first ``marker`` event (e.g. ``check.raised``), by time then item."""
    at = next(index for index, event in enumerate(events) if event.kind == marker)
    ended = [event for event in events[at:] if event.kind == Kind.WORK_END]
    return sorted(ended, key=lambda event: (event.time, repr(event["item"])))


def running_at(events: list[Event], marker: str) -> set[Any]:
    """The items whose handle() call had started and not ended when the first ``marker`` event came."""
    at = next(index for index, event in enumerate(events) if event.kind == marker)
    running: set[Any] = set()
    for event in events[:at]:
        if event.kind == Kind.WORK_START:
            running.add(event["item"])
        elif event.kind == Kind.WORK_END:
            running.discard(event["item"])
    return running
