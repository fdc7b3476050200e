"""What chapter 7's runs did, read from their events: the measures its checks and pictures share.

Shared measures (in flight, idle slots, busy intervals) are in :mod:`coursekit.analysis`."""

from __future__ import annotations

from coursekit.events import Event, Kind


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
