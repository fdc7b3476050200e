"""What the course's unreliable upstream does to each request: a seeded fault schedule.

Times are seconds on the service's clock: 0 is when the service was started (see
:class:`coursekit.service.app.Service`), and they run on the event loop's clock (virtual
under :func:`coursekit.virtual_time.run_virtual`, real under uvicorn).

Per request, in this order, the first rule that applies decides the answer:

1. an **outage** ``[start, end)`` or the down part of a **flapping** cycle: 503 at once;
2. the **rate limit** (a fixed window of ``limit`` requests per ``window`` seconds,
   windows starting at t = 0): 429 with ``Retry-After`` (seconds, or an HTTP date) for
   the rest of the window;
3. a **hang** (probability ``hang_rate``): no answer, ever;
4. after the drawn **latency**, an **error** (probability ``error_rate``): 500 or 503,
   half and half; otherwise the resource.

The draws for a request come from ``random.Random(f"{seed}|{path}|{n}")``, ``n`` counting
that path's requests from 1: the same seed gives every path the same sequence of
faults, whatever the other paths do.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Latency:
    """How long an answer takes: ``fixed`` seconds, ``uniform`` in [low, high], or
    ``lognormal`` with the given median and shape ``sigma``."""

    kind: Literal["fixed", "uniform", "lognormal"] = "fixed"
    low: float = 0.05
    high: float = 0.05
    sigma: float = 0.0

    @classmethod
    def fixed(cls, seconds: float) -> Latency:
        return cls("fixed", seconds, seconds)

    @classmethod
    def uniform(cls, low: float, high: float) -> Latency:
        if not 0 <= low <= high:
            raise ValueError(f"need 0 <= low <= high, got {low}, {high}")
        return cls("uniform", low, high)

    @classmethod
    def lognormal(cls, median: float, sigma: float) -> Latency:
        """A long tail: half the answers take less than ``median``, a few far more."""
        if median <= 0 or sigma < 0:
            raise ValueError(f"need median > 0 and sigma >= 0, got {median}, {sigma}")
        return cls("lognormal", median, median, sigma)

    def draw(self, rng: random.Random) -> float:
        if self.kind == "uniform":
            return rng.uniform(self.low, self.high)
        if self.kind == "lognormal":
            return rng.lognormvariate(math.log(self.low), self.sigma)
        return self.low


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` requests per fixed window of ``window`` seconds; the rest get 429."""

    limit: int
    window: float
    retry_after: Literal["seconds", "http-date"] = "seconds"


@dataclass(frozen=True)
class Faults:
    """The faults of one endpoint (or of every endpoint without settings of its own)."""

    latency: Latency = field(default_factory=Latency)
    error_rate: float = 0.0
    hang_rate: float = 0.0
    outages: tuple[tuple[float, float], ...] = ()
    flapping: tuple[float, float] | None = None  # (period, down seconds at the start of each period)
    rate_limit: RateLimit | None = None

    def __post_init__(self) -> None:
        for name in ("error_rate", "hang_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a probability, got {getattr(self, name)}")
        if any(start > end for start, end in self.outages):
            raise ValueError(f"an outage ends before it starts: {self.outages}")
        if self.flapping is not None and not 0 <= self.flapping[1] <= self.flapping[0]:
            raise ValueError(f"flapping needs 0 <= down <= period, got {self.flapping}")

    def is_down(self, now: float) -> bool:
        """Is the endpoint in an outage, or in the down part of its flapping cycle, at ``now``?"""
        if any(start <= now < end for start, end in self.outages):
            return True
        return self.flapping is not None and now % self.flapping[0] < self.flapping[1]


@dataclass(frozen=True)
class Decision:
    """What the service does with one request."""

    outcome: Literal["ok", "error", "hang", "outage", "rate_limited"]
    status: int | None  # None for a hang
    delay: float = 0.0  # seconds before the answer
    retry_after: float | None = None  # for 429: seconds until the window reopens


def decide(faults: Faults, rng: random.Random, now: float, window_count: int) -> Decision:
    """The answer to a request arriving at ``now``, the ``window_count``-th of its rate-limit window."""
    if faults.is_down(now):
        return Decision("outage", 503)
    limit = faults.rate_limit
    if limit is not None and window_count > limit.limit:
        reopens = (math.floor(now / limit.window) + 1) * limit.window
        return Decision("rate_limited", 429, retry_after=reopens - now)
    if rng.random() < faults.hang_rate:
        return Decision("hang", None)
    delay = faults.latency.draw(rng)
    if rng.random() < faults.error_rate:
        return Decision("error", rng.choice((500, 503)), delay)
    return Decision("ok", 200, delay)
