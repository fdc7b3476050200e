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
from coursekit.queues import STOP


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


def queue_depth(events: list[Event]) -> tuple[list[float], list[int]]:
    """(times, depths): items waiting in the queue at each instant it changed.

    Several puts and gets at the same virtual instant count as one change (the
    depth after the last of them), so an item taken as soon as it is put leaves
    no spike."""
    depth_at: dict[float, int] = {0.0: 0}
    for event in events:
        if event.kind in (Kind.QUEUE_PUT, Kind.QUEUE_GET):
            depth_at[event.time or 0.0] = event["depth"]
    return list(depth_at), list(depth_at.values())


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


def batch_calls(events: list[Event]) -> list[tuple[float, int]]:
    """(time, size) of each batch handler call, from ``work.start`` events that carry a ``size``."""
    starts = [event for event in events if event.kind == Kind.WORK_START and "size" in event.fields]
    return [(event.time or 0.0, event["size"]) for event in starts]


def item_waits(events: list[Event]) -> dict[Any, tuple[float, float | None, float | None]]:
    """Per submitted item: (submitted, handed to the handler, result back), from ``batch.submit``,
    the first ``work.start`` whose items include it, and ``batch.result``; None if it never happened."""
    waits: dict[Any, list[float | None]] = {}
    for event in events:
        time = event.time or 0.0
        if event.kind == Kind.BATCH_SUBMIT:
            waits[event["item"]] = [time, None, None]
        elif event.kind == Kind.WORK_START and "size" in event.fields:
            for item in event["item"]:
                if item in waits and waits[item][1] is None:
                    waits[item][1] = time
        elif event.kind == Kind.BATCH_RESULT and event["item"] in waits:
            waits[event["item"]][2] = time
    return {item: (w[0], w[1], w[2]) for item, w in waits.items()}  # type: ignore[misc]


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


def peak_requests(events: list[Event]) -> int:
    """The most requests in flight at once (connecting or waiting for the answer)."""
    return peak_in_flight(events, Kind.REQUEST_START, Kind.REQUEST_END)


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


def batch_handler_calls(events: list[Event]) -> list[tuple[float, list[Any]]]:
    """(time, items) of each batch handler call, in call order, from ``work.start`` events that carry a ``size``."""
    return [
        (event.time or 0.0, list(event["item"]))
        for event in events
        if event.kind == Kind.WORK_START and "size" in event.fields
    ]


def breaker_transitions(events: list[Event], name: str | None = None) -> list[tuple[float, str, str]]:
    """(time, old, new) of each ``breaker.state`` event (of the breaker called ``name``, if given), in order."""
    return [
        (event.time or 0.0, event["old"], event["new"])
        for event in events
        if event.kind == Kind.BREAKER_STATE and (name is None or event.fields.get("name") == name)
    ]


def breaker_bands(events: list[Event], end: float, origin: float = 0.0) -> list[tuple[float, float, str]]:
    """(start, end, state) spans of a breaker's state from ``origin`` to ``end``, from its
    ``breaker.state`` events; the state before the first event is that event's ``old`` (closed if none).
    Spans of no length (several transitions at one instant) are left out."""
    transitions = breaker_transitions(events)
    state = transitions[0][1] if transitions else "closed"
    bands: list[tuple[float, float, str]] = []
    since = origin
    for time, _, new in transitions:
        if time > since:
            bands.append((since, time, state))
        since, state = max(since, time), new
    if end > since:
        bands.append((since, end, state))
    return bands


def breaker_periods(events: list[Event], state: str, end: float) -> list[tuple[float, float]]:
    """(start, end) of every period a breaker spent in ``state``, in order, from its ``breaker.state``
    events; unlike :func:`breaker_bands`, a period of no length counts (a half-open trial that fails at
    once reopens the breaker at the instant it went half open). One still under way ends at ``end``."""
    periods: list[tuple[float, float]] = []
    since: float | None = None
    for time, old, new in breaker_transitions(events):
        if old == state and since is not None:
            periods.append((since, time))
            since = None
        if new == state:
            since = time
    if since is not None:
        periods.append((since, max(since, end)))
    return periods


def breaker_calls(events: list[Event]) -> dict[str, list[float]]:
    """When calls reached the service and how they ended, and when the breaker rejected calls:
    ``{"ok": [...], "failed": [...], "rejected": [...]}``, from ``server.response`` events
    (a status of 500 or more is a failure) and ``breaker.rejected`` events (emitted by the caller)."""
    marks: dict[str, list[float]] = {"ok": [], "failed": [], "rejected": []}
    for event in events:
        if event.kind == Kind.SERVER_RESPONSE:
            status = event.fields.get("status")
            marks["failed" if status is None or status >= 500 else "ok"].append(event.time or 0.0)
        elif event.kind == Kind.BREAKER_REJECTED:
            marks["rejected"].append(event.time or 0.0)
    return marks


def server_load(events: list[Event], width: float) -> tuple[list[float], list[int]]:
    """(bin starts, counts): requests the service received per bin of ``width`` seconds, from
    ``server.request`` events, from t = 0 to the bin of the last request (empty bins included)."""
    times = [event.time or 0.0 for event in events if event.kind == Kind.SERVER_REQUEST]
    if not times:
        return [], []
    bins = int(max(times) // width) + 1
    counts = [0] * bins
    for time in times:
        counts[int(time // width)] += 1
    return [n * width for n in range(bins)], counts


def attempts_by_client(events: list[Event]) -> dict[str, list[tuple[float, int | None]]]:
    """Per path (one client each), when each of its requests was answered and the status
    (None: no answer), from ``server.response`` events, in order."""
    attempts: dict[str, list[tuple[float, int | None]]] = {}
    for event in events:
        if event.kind == Kind.SERVER_RESPONSE:
            attempts.setdefault(event.fields["path"], []).append((event.time or 0.0, event.fields.get("status")))
    return attempts


def stops_put(events: list[Event]) -> int:
    """How many STOP sentinels were put into a queue."""
    return sum(1 for event in events if event.kind == Kind.QUEUE_PUT and event["item"] is STOP)


def taken_without_task_done(events: list[Event]) -> list[Any]:
    """Items a task took with get() and did not mark done before its next get() or the end."""
    holding: dict[str | None, Any] = {}
    missing: list[Any] = []
    for event in events:
        if event.kind == Kind.QUEUE_GET:
            if event.task in holding:
                missing.append(holding[event.task])
            holding[event.task] = event["item"]
        elif event.kind == Kind.QUEUE_TASK_DONE:
            holding.pop(event.task, None)
    return missing + list(holding.values())


def task_done_before_handled(events: list[Event]) -> list[Any]:
    """Items marked task_done() by the task that took them before their handle() call ended (a STOP
    is never handled, so it is never early)."""
    holding: dict[str | None, list[Any]] = {}  # task -> [item, handled]
    early: list[Any] = []
    for event in events:
        if event.kind == Kind.QUEUE_GET:
            holding[event.task] = [event["item"], event["item"] is STOP]
        elif event.kind == Kind.WORK_END:
            for held in holding.values():
                if held[0] == event["item"]:
                    held[1] = True
        elif event.kind == Kind.QUEUE_TASK_DONE:
            held = holding.pop(event.task, [None, True])
            if not held[1]:
                early.append(held[0])
    return early


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
