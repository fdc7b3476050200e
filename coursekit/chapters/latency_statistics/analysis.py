"""Chapter 9's reading of events: when each request of a load run was sent and answered.

A load run (:mod:`coursekit.chapters.latency_statistics.pictures`) emits ``load.sent`` and
``load.done`` events, each with the request's number ``request``. From them and the
intended schedule (``start + i / rate``) come the two measures the chapter compares:
latency from the send time (what a closed-loop client sees) and from the intended
send time (what a user arriving on schedule sees).
"""

from __future__ import annotations

from collections.abc import Sequence

from coursekit.events import Event, Kind


def request_times(events: Sequence[Event]) -> dict[int, tuple[float, float]]:
    """Request number -> (sent, answered), loop seconds, for every request that was answered."""
    sent = {event["request"]: event.time for event in events if event.kind == Kind.LOAD_SENT}
    done = {event["request"]: event.time for event in events if event.kind == Kind.LOAD_DONE}
    return {i: (float(sent[i] or 0.0), float(done[i] or 0.0)) for i in sorted(done) if i in sent}


def latencies_both_ways(
    events: Sequence[Event], *, start: float, rate: float
) -> tuple[list[float], list[float], list[float]]:
    """(intended send times, latency from the send, latency from the intended send), in request order."""
    times = request_times(events)
    intended = [start + i / rate for i in times]
    from_send = [done - sent for sent, done in times.values()]
    from_intended = [done - due for (_, done), due in zip(times.values(), intended, strict=True)]
    return intended, from_send, from_intended
