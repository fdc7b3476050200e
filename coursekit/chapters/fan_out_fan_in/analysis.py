"""What chapter 4's runs did, read from their events: the measures its checks and pictures share.

Shared measures (in flight, idle slots, busy intervals) are in :mod:`coursekit.analysis`."""

from __future__ import annotations

from coursekit.analysis import peak_in_flight
from coursekit.events import Event, Kind


def peak_requests(events: list[Event]) -> int:
    """The most requests in flight at once (connecting or waiting for the answer)."""
    return peak_in_flight(events, Kind.REQUEST_START, Kind.REQUEST_END)
