"""What chapter 4's scenarios run against: the course's service with a fault per item.

``GET /items/<n>`` answers ``{"item":n}`` (:func:`body_of`) after a latency of its own; a client
that opens a connection pays ``CONNECT_TIME`` first. The checks, the probes and the pictures all
use :func:`items_service`, so they measure the same service.
"""

from __future__ import annotations

from collections.abc import Iterable

from coursekit.service import Faults, Latency, RateLimit, Service

CONNECT_TIME = 0.1  # seconds a new connection to the service takes (the handshakes)


def items_service(
    *,
    latency: float = 1.0,
    slow: Iterable[tuple[int, float]] = (),
    failing: Iterable[int] = (),
    refused: Iterable[int] = (),
    hanging: Iterable[int] = (),
    items: Iterable[int] = (),
    seed: int = 4,
) -> Service:
    """The course's service with per-item faults: ``GET /items/<n>`` answers ``{"item":n}`` after
    ``latency`` s (``slow``: (n, seconds) pairs), an item in ``failing`` answers 500 or 503 after its
    latency, one in ``refused`` 429 at once, one in ``hanging`` never answers."""
    slow_items = dict(slow)
    failing, refused, hanging = set(failing), set(refused), set(hanging)
    endpoints: dict[str, Faults] = {}
    for n in {*items, *slow_items, *failing, *refused, *hanging}:
        endpoints[f"/items/{n}"] = Faults(
            latency=Latency.fixed(slow_items.get(n, latency)),
            error_rate=1.0 if n in failing else 0.0,
            hang_rate=1.0 if n in hanging else 0.0,
            rate_limit=RateLimit(0, 3600.0) if n in refused else None,
        )
    return Service(seed=seed, faults=Faults(latency=Latency.fixed(latency)), endpoints=endpoints)


def body_of(n: int) -> str:
    """The text of the service's answer to ``GET /items/<n>``."""
    return f'{{"item":{n}}}'
