"""Chapter 9 reference solution: percentiles, a streaming latency recorder, a constant-rate load generator.

:func:`percentile` — ``percentile(values, p, method)``, ``0 <= p <= 100``, the method named:

- ``"nearest-rank"``: sort the n values; the answer is the value of rank
  ``r = ceil(p * n / 100)`` (1-based), and rank 1 for ``p = 0``. It is always one of the
  values, exactly. The nearest-rank method of Wikipedia's "Percentile" article; Hyndman
  & Fan (1996) type 1 (the inverse of the empirical distribution function); numpy's
  ``method="inverted_cdf"``.
- ``"linear"``: ``h = (n - 1) * p / 100``; the answer is ``x[floor(h)] + (h - floor(h)) *
  (x[floor(h) + 1] - x[floor(h)])`` on the sorted values (0-based; at ``p = 100`` it is
  the largest). Hyndman & Fan type 7, numpy's default ``method="linear"``, R's default,
  Excel's ``PERCENTILE.INC``, ``statistics.quantiles(method="inclusive")``. Computed in
  floating point: any formula within ``1e-9 * max(|x|)`` of the exact value is accepted.
- ``values`` empty, ``p`` outside [0, 100] or an unknown method: ``ValueError``. The
  caller's ``values`` are not changed (not sorted in place).

:class:`LatencyRecorder` — a streaming summary with bounded memory: values in seconds,
in ``[lowest, highest]`` (outside: ``ValueError``), counted in logarithmic buckets
``(g**(k-1), g**k]`` with ``g = (1 + e) / (1 - e)``, ``e = relative_error``; a bucket is
reported as ``2 * g**k / (g + 1)``, within ``e`` of every value in it (DDSketch's layout,
Masson et al. 2019). ``percentile(p)`` is the nearest-rank percentile of every value
recorded, within ``relative_error`` of the exact one; the memory is one counter per
bucket used, whatever the number of values. No values: ``percentile`` raises
``ValueError`` and ``summary()`` is ``{"count": 0, "p50": None, "p95": None, "p99": None}``.

:func:`constant_rate` — ``await constant_rate(call, rate=..., count=..., connections=...)``
makes ``count`` requests ``await call(i)``, request ``i`` *intended* at ``start + i / rate``
(``start``: the loop's time when it is called), at most ``connections`` at once, sent in
order, each at its intended time or, when every connection is busy, as soon as one is
free. Latency is measured **from the intended send time** to the response: a request
sent late because the service stalled counts the time it waited to be sent (no
coordinated omission). It returns the ``count`` latencies in request order, when every
response is in.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

# ----------------------------------------------------------------- exercise 1


def percentile(values: Sequence[float], p: float, method: str = "nearest-rank") -> float:
    """The ``p``-th percentile of ``values`` by ``method``: ``"nearest-rank"`` or ``"linear"``."""
    if method not in ("nearest-rank", "linear"):
        raise ValueError(f"unknown method {method!r}: use 'nearest-rank' or 'linear'")
    if not 0 <= p <= 100:
        raise ValueError(f"p must be in [0, 100], got {p!r}")
    if not values:
        raise ValueError("no values: a percentile of nothing is undefined")
    ordered = sorted(values)
    n = len(ordered)
    if method == "nearest-rank":
        rank = max(1, math.ceil(p * n / 100))
        return ordered[rank - 1]
    h = (n - 1) * p / 100
    below = math.floor(h)
    above = min(below + 1, n - 1)
    return ordered[below] + (h - below) * (ordered[above] - ordered[below])


# ----------------------------------------------------------------- exercise 2


class LatencyRecorder:
    """Latencies in seconds, summarized in bounded memory; percentiles within ``relative_error``.

    ::

        recorder = LatencyRecorder(relative_error=0.01)
        recorder.record(0.043)
        recorder.p99                      # nearest-rank, within 1% of the exact value
    """

    def __init__(self, relative_error: float = 0.01, lowest: float = 1e-6, highest: float = 3600.0) -> None:
        if not 0 < relative_error < 1:
            raise ValueError(f"relative_error must be in (0, 1), got {relative_error!r}")
        if not 0 < lowest < highest:
            raise ValueError(f"need 0 < lowest < highest, got {lowest!r}, {highest!r}")
        self.relative_error = relative_error
        self.lowest = lowest  # the smallest value record() accepts, in seconds
        self.highest = highest  # the largest
        self.count = 0  # values recorded
        ### BEGIN SOLUTION
        self._gamma = (1 + relative_error) / (1 - relative_error)
        self._log_gamma = math.log(self._gamma)
        self._counts: dict[int, int] = {}  # bucket k: values in (gamma**(k-1), gamma**k]
        ### END SOLUTION

    def record(self, seconds: float) -> None:
        """Count one latency; ``ValueError`` outside [lowest, highest]."""
        ### BEGIN SOLUTION
        if not self.lowest <= seconds <= self.highest:
            raise ValueError(f"{seconds!r} s is outside [{self.lowest!r}, {self.highest!r}]")
        bucket = math.ceil(math.log(seconds) / self._log_gamma)
        self._counts[bucket] = self._counts.get(bucket, 0) + 1
        self.count += 1
        ### END SOLUTION

    def percentile(self, p: float) -> float:
        """The nearest-rank ``p``-th percentile of every value recorded, within ``relative_error``."""
        ### BEGIN SOLUTION
        if not 0 <= p <= 100:
            raise ValueError(f"p must be in [0, 100], got {p!r}")
        if self.count == 0:
            raise ValueError("no values recorded")
        rank = max(1, math.ceil(p * self.count / 100))
        seen = 0
        for bucket in sorted(self._counts):
            seen += self._counts[bucket]
            if seen >= rank:
                return 2 * self._gamma**bucket / (self._gamma + 1)
        raise AssertionError("the counts add up to self.count")
        ### END SOLUTION

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p95(self) -> float:
        return self.percentile(95)

    @property
    def p99(self) -> float:
        return self.percentile(99)

    def summary(self) -> dict[str, Any]:
        """``{"count", "p50", "p95", "p99"}``; with no values, the three percentiles are None."""
        ### BEGIN SOLUTION
        if self.count == 0:
            return {"count": 0, "p50": None, "p95": None, "p99": None}
        return {"count": self.count, "p50": self.p50, "p95": self.p95, "p99": self.p99}
        ### END SOLUTION


# ----------------------------------------------------------------- exercise 3


async def constant_rate(
    call: Callable[[int], Awaitable[Any]], *, rate: float, count: int, connections: int
) -> list[float]:
    """Requests ``call(0)``, ``call(1)``, ... intended ``1 / rate`` apart, at most ``connections`` at once;
    each one's latency from its intended send time to its response, in request order."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    latencies = [0.0] * count
    free = asyncio.Semaphore(connections)

    async def request(i: int, intended: float) -> None:
        try:
            await call(i)
        finally:
            latencies[i] = loop.time() - intended
            free.release()

    async with asyncio.TaskGroup() as group:
        for i in range(count):
            intended = start + i / rate
            await asyncio.sleep(max(0.0, intended - loop.time()))
            await free.acquire()
            group.create_task(request(i, intended))
    return latencies
