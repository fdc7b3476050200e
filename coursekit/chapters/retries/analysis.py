"""What chapter 6's runs did, read from their events: the measures its checks and pictures share.

Shared measures (in flight, idle slots, busy intervals) are in :mod:`coursekit.analysis`."""

from __future__ import annotations

from coursekit.events import Event, Kind


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
