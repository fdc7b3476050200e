"""What chapter 1's runs did, read from their events: the measures its checks and pictures share.

Shared measures (in flight, idle slots, busy intervals) are in :mod:`coursekit.analysis`."""

from __future__ import annotations

from typing import Any

from coursekit.events import Event, Kind
from coursekit.queues import STOP


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
