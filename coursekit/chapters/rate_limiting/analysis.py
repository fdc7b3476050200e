"""What a rate-limited run did, computed from its events (chapter 8): admissions, waits, tokens, windows.

Like :mod:`coursekit.analysis`, this module only reads events, so that pictures show what
the checks measure. Event kinds read here: ``limiter.request``, ``limiter.admitted`` (with
``amount`` and ``waited``), ``limiter.refused`` (with ``retry_after``), ``limiter.cancelled``
(:func:`coursekit.chapters.rate_limiting.given.timed_acquire` emits them), ``limiter.tracked`` (with
``count``: how many clients a per-client limiter keeps state for) and ``middleware.limited``
(a 429 answer of :class:`coursekit.chapters.rate_limiting.given.RateLimitMiddleware`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from coursekit.events import Event, Kind


def admissions(events: list[Event]) -> list[tuple[float, int, float]]:
    """(time, amount, seconds waited) of every admitted request, in order."""
    return [
        (event.time or 0.0, event["amount"], event["waited"]) for event in events if event.kind == Kind.LIMITER_ADMITTED
    ]


def requests(events: list[Event]) -> list[float]:
    """When each request was asked for."""
    return [event.time or 0.0 for event in events if event.kind == Kind.LIMITER_REQUEST]


def refusals(events: list[Event]) -> list[float]:
    """When each refused request was refused."""
    return [event.time or 0.0 for event in events if event.kind == Kind.LIMITER_REFUSED]


def bucket_tokens(events: list[Event], rate: float, capacity: float) -> tuple[list[float], list[float]]:
    """(times, tokens): the tokens a bucket of ``capacity`` refilled at ``rate`` has left, given the run's
    admissions, starting full at the first request. Below 0: more passed than such a bucket allows."""
    asked = requests(events)
    if not asked:
        return [], []
    times, levels = [asked[0]], [float(capacity)]
    tokens, now = float(capacity), asked[0]
    for when, amount, _ in admissions(events):
        if when > now:
            full_at = now + (capacity - tokens) / rate
            if tokens < capacity and full_at < when:
                times.append(full_at)
                levels.append(float(capacity))
            tokens = min(capacity, tokens + (when - now) * rate)
            times.append(when)
            levels.append(tokens)
            now = when
        tokens -= amount
        times.append(when)
        levels.append(tokens)
    return times, levels


def per_window(times: list[float], width: float, end: float, origin: float = 0.0) -> tuple[list[float], list[int]]:
    """(starts, counts): how many of ``times`` fall in each window [origin + k * width, ... + width) up to ``end``."""
    bins = max(1, math.ceil((end - origin) / width))
    counts = [0] * bins
    for when in times:
        index = int((when - origin) // width)
        if 0 <= index < bins:
            counts[index] += 1
    return [origin + k * width for k in range(bins)], counts


CLOCK_RESOLUTION = 1e-5
"""Seconds: instants closer than this are one instant (the virtual clock ticks in microseconds)."""


@dataclass(frozen=True)
class Window:
    """A run of times less than a window apart: the earliest, the latest, and how many."""

    first: float
    last: float
    count: int


def most_in_any_window(times: Sequence[float], window: float) -> int:
    """The most of ``times`` within any half-open window of ``window`` seconds (:func:`busiest_window`)."""
    return busiest_window(times, window).count


def busiest_window(times: Sequence[float], window: float) -> Window:
    """The earliest window ``[first, first + window)`` that holds the most of ``times``, where ``first`` is
    one of them (no window holds more than one that starts at a time); a time within
    :data:`CLOCK_RESOLUTION` of ``first + window`` is outside it. ``Window(0.0, 0.0, 0)`` for no times.
    Chapter 8's checks and its pictures both measure windows with this."""
    ordered = sorted(times)
    best = Window(0.0, 0.0, 0)
    last = 0
    for first, start in enumerate(ordered):
        last = max(last, first)
        while last + 1 < len(ordered) and ordered[last + 1] < start + window - CLOCK_RESOLUTION:
            last += 1
        if last - first + 1 > best.count:
            best = Window(start, ordered[last], last - first + 1)
    return best


def tracked_clients(events: list[Event]) -> tuple[list[float], list[int], list[int]]:
    """(times, tracked, seen): at each ``limiter.tracked`` event, the clients the limiter keeps state for and
    the distinct clients seen so far."""
    picked = [event for event in events if event.kind == Kind.LIMITER_TRACKED]
    return (
        [event.time or 0.0 for event in picked],
        [event["count"] for event in picked],
        [event["seen"] for event in picked],
    )
