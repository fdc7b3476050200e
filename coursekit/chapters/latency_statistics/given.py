"""Chapter 9's given code: percentile method names, a memory measure, and a service that stalls.

- :data:`METHODS`: the two percentile methods of the chapter, by the names the API uses:
  ``"nearest-rank"`` (the smallest value with at least p% of the values at or below it:
  rank ``ceil(p * n / 100)``, rank 1 for p = 0; Hyndman & Fan's type 1, numpy's
  ``"inverted_cdf"``) and ``"linear"`` (Hyndman & Fan's type 7, numpy's default, R's
  default: ``h = (n - 1) * p / 100``, interpolated between the values of ranks
  ``floor(h) + 1`` and ``floor(h) + 2``).
- :func:`footprint`: the bytes an object holds, counted through its attributes and
  containers (each object once), to check that a streaming summary's memory is bounded.
- :func:`memory_budget`: the footprint a :class:`LatencyRecorder` of chapter 9 may use.
- :class:`StalledService`: the course's HTTP service (:class:`coursekit.service.Service`)
  with **stalls**: a request that arrives during a stall ``[start, end)`` (seconds on the
  service's clock) is held until ``end``, as if the server were frozen (a garbage
  collection, a full disk, a lock), and only then served with the service's own faults.
"""

from __future__ import annotations

import array
import asyncio
import math
import sys
import types
from collections import deque
from dataclasses import dataclass

from starlette.types import Receive, Scope, Send

from coursekit.events import Kind, emit
from coursekit.service import Service

METHODS = ("nearest-rank", "linear")

_SHARED = (type, types.BuiltinFunctionType, types.FunctionType, types.MethodType, types.ModuleType, type(None))


def footprint(obj: object) -> int:
    """Bytes held by ``obj``: ``sys.getsizeof`` summed over the object, its attributes
    (``__dict__``, ``__slots__``) and the items of its containers (list, tuple, set, dict,
    deque, array), each object counted once. Classes, functions and modules are not counted
    (they are shared, not the object's own)."""
    seen: set[int] = set()
    total = 0
    stack = [obj]
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, _SHARED):
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset | deque):
            stack.extend(item)
        elif isinstance(item, array.array | str | bytes | int | float):
            continue
        if hasattr(item, "__dict__") and not isinstance(item, type):
            stack.append(vars(item))
        for slot in getattr(type(item), "__slots__", ()):
            if hasattr(item, slot):
                stack.append(getattr(item, slot))
    return total


def log_buckets(relative_error: float, lowest: float, highest: float) -> int:
    """How many buckets a logarithmic layout needs to cover [lowest, highest] with that relative error:
    each bucket ``(g**(k-1), g**k]`` with ``g = (1 + e) / (1 - e)``, reported by a value within ``e`` of
    every value in it."""
    gamma = (1 + relative_error) / (1 - relative_error)
    return math.ceil(math.log(highest / lowest) / math.log(gamma)) + 1


def memory_budget(relative_error: float, lowest: float, highest: float) -> int:
    """The footprint a LatencyRecorder may use, whatever the number of values: 400 bytes for each
    bucket a logarithmic layout needs (:func:`log_buckets`), plus 16 KiB."""
    return 400 * log_buckets(relative_error, lowest, highest) + 16 * 1024


@dataclass
class StalledService(Service):
    """The course's service, frozen during each ``stalls`` window ``[start, end)`` (service seconds):
    a request arriving then waits until ``end``, and is then served as usual (its latency, its faults).
    Each held request is emitted as a ``server.stalled`` event with its path and the ``until`` time."""

    stalls: tuple[tuple[float, float], ...] = ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] != "/log":
            now = self.now()
            for start, end in self.stalls:
                if start <= now < end:
                    emit(Kind.SERVER_STALLED, path=scope["path"], until=end)
                    await asyncio.sleep(end - now)
                    break
        await super().__call__(scope, receive, send)
