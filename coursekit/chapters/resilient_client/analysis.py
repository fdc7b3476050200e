"""What chapter 10's dashboard shows, read from a run's events only (see coursekit/analysis.py).

Event kinds read here: ``call.start`` / ``call.end`` (a caller's call of the client, ``latency``,
``outcome``: ``"answered"``, or ``"fallback"`` when the client's fallback answered),
``breaker.state`` / ``breaker.rejected``, ``limiter.admitted``, ``server.request`` /
``server.response`` (with ``path``: each call asks for a URL of its own, so a path's second
request is a retry). Times are virtual seconds; series are per bin of ``width`` seconds.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]  # hdrhistogram ships no type hints

from coursekit.chapters.circuit_breaker.analysis import breaker_bands, breaker_periods
from coursekit.events import Event, Kind


def _bins(end: float, width: float) -> list[float]:
    return [n * width for n in range(int(end // width) + 1)]


def calls_in_flight(events: list[Event]) -> tuple[list[float], list[int]]:
    """(times, counts): calls of the client under way (waiting for the bulkhead, retrying, requesting)."""
    count, times, counts = 0, [0.0], [0]
    for event in events:
        if event.kind in (Kind.CALL_START, Kind.CALL_END):
            count += 1 if event.kind == Kind.CALL_START else -1
            times.append(event.time or 0.0)
            counts.append(count)
    return times, counts


def requests_in_flight(events: list[Event]) -> tuple[list[float], list[int]]:
    """(times, counts): requests the service was working on (the server's own load)."""
    count, times, counts = 0, [0.0], [0]
    for event in events:
        if event.kind in (Kind.SERVER_REQUEST, Kind.SERVER_RESPONSE):
            count += 1 if event.kind == Kind.SERVER_REQUEST else -1
            times.append(event.time or 0.0)
            counts.append(count)
    return times, counts


def per_bin(events: list[Event], kind: str, end: float, width: float) -> tuple[list[float], list[int]]:
    """(bin starts, counts) of events of ``kind`` per bin of ``width`` seconds, up to ``end``."""
    starts = _bins(end, width)
    counts = [0] * len(starts)
    for event in events:
        if event.kind == kind:
            counts[min(int((event.time or 0.0) // width), len(counts) - 1)] += 1
    return starts, counts


def retries_per_bin(events: list[Event], end: float, width: float) -> tuple[list[float], list[int]]:
    """(bin starts, counts) of requests that repeat a path already requested: retries."""
    starts = _bins(end, width)
    counts = [0] * len(starts)
    seen: Counter[str] = Counter()
    for event in events:
        if event.kind == Kind.SERVER_REQUEST:
            seen[event["path"]] += 1
            if seen[event["path"]] > 1:
                counts[min(int((event.time or 0.0) // width), len(counts) - 1)] += 1
    return starts, counts


def latency_percentiles(
    events: list[Event], end: float, width: float, percentiles: tuple[float, ...] = (50.0, 99.0)
) -> dict[float, tuple[list[float], list[float | None]]]:
    """Per percentile: (bin starts, seconds) of the latency of the calls that ended in each bin, from an
    HdrHistogram per bin (microseconds, 3 significant digits); None for a bin without calls."""
    starts = _bins(end, width)
    histograms = [HdrHistogram(1, 600_000_000, 3) for _ in starts]
    for event in events:
        if event.kind == Kind.CALL_END:
            histograms[min(int((event.time or 0.0) // width), len(starts) - 1)].record_value(
                max(1, round(event["latency"] * 1e6))
            )
    return {
        p: (starts, [h.get_value_at_percentile(p) / 1e6 if h.get_total_count() else None for h in histograms])
        for p in percentiles
    }


def overall_latency(events: list[Event]) -> dict[str, Any]:
    """Calls, and p50 / p90 / p99 / max latency in seconds over the whole run (HdrHistogram)."""
    histogram = HdrHistogram(1, 600_000_000, 3)
    for event in events:
        if event.kind == Kind.CALL_END:
            histogram.record_value(max(1, round(event["latency"] * 1e6)))
    summary: dict[str, Any] = {"calls": histogram.get_total_count()}
    for p in (50.0, 90.0, 99.0):
        summary[f"p{p:g}"] = histogram.get_value_at_percentile(p) / 1e6
    summary["max"] = histogram.get_max_value() / 1e6
    return summary


def breaker_states_of(events: list[Event], end: float) -> list[tuple[float, float, str]]:
    """(start, end, state) spans of the breaker's state (one breaker: the dashboard's one host)."""
    return breaker_bands(events, end=end)


def half_open_periods_of(events: list[Event], end: float) -> list[tuple[float, float]]:
    """(start, end) of every half-open period of the breaker, those of no length included."""
    return breaker_periods(events, "half_open", end)


def fallbacks_per_bin(events: list[Event], end: float, width: float) -> tuple[list[float], list[int]]:
    """(bin starts, counts) of the calls the client's fallback answered (``call.end`` with
    ``outcome="fallback"``), in the bin each ended in."""
    starts = _bins(end, width)
    counts = [0] * len(starts)
    for event in events:
        if event.kind == Kind.CALL_END and event.fields.get("outcome") == "fallback":
            counts[min(int((event.time or 0.0) // width), len(counts) - 1)] += 1
    return starts, counts
