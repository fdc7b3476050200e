"""What chapter 3's runs did, read from their events: the measures its checks and pictures share.

Shared measures (in flight, idle slots, busy intervals) are in :mod:`coursekit.analysis`."""

from __future__ import annotations

from typing import Any

from coursekit.events import Event, Kind


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


def batch_handler_calls(events: list[Event]) -> list[tuple[float, list[Any]]]:
    """(time, items) of each batch handler call, in call order, from ``work.start`` events that carry a ``size``."""
    return [
        (event.time or 0.0, list(event["item"]))
        for event in events
        if event.kind == Kind.WORK_START and "size" in event.fields
    ]
