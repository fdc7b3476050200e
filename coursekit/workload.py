"""A stand-in for real work: an async handler with known durations and failures.

``Workload(duration, failing)`` is an async callable: ``await work(item)`` takes
``duration(item)`` simulated seconds (or ``duration`` if it is a number), then
returns ``work.expected(item)`` or, for items in ``failing``, raises
:class:`ItemFailed`. It emits ``work.start`` and ``work.end`` (also on failure
or cancellation) and counts calls and completions per item, so checks can tell lost and
repeated items apart and pictures can show who was busy when.
"""
from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from coursekit.events import emit


class ItemFailed(Exception):
    """The failure a Workload raises for an item in its ``failing`` set."""


class Workload:
    def __init__(self, duration: float | Callable[[Any], float] = 1.0, failing: Iterable[Hashable] = ()) -> None:
        self._duration = duration
        self.failing = frozenset(failing)
        self.calls: Counter[Hashable] = Counter()  # handle(item) started
        self.completed: Counter[Hashable] = Counter()  # ... and ran to its end, success or failure

    def duration(self, item: Hashable) -> float:
        return self._duration(item) if callable(self._duration) else self._duration

    @staticmethod
    def expected(item: Hashable) -> tuple[str, Hashable]:
        """The result handling ``item`` returns when it does not fail."""
        return ("done", item)

    async def __call__(self, item: Hashable) -> tuple[str, Hashable]:
        self.calls[item] += 1
        emit("work.start", item=item)
        outcome = "cancelled"
        try:
            await asyncio.sleep(self.duration(item))
            if item in self.failing:
                outcome = "failed"
                raise ItemFailed(f"item {item!r} failed")
            outcome = "done"
            return self.expected(item)
        finally:
            if outcome != "cancelled":
                self.completed[item] += 1
            emit("work.end", item=item, outcome=outcome)


def count_primes(limit: int) -> int:
    """How many primes are below ``limit`` (a sieve): a CPU-bound stand-in for real work.

    Defined here, not in a notebook, so that worker processes can import it."""
    if limit < 3:
        return 0
    sieve = bytearray([1]) * limit
    sieve[0] = sieve[1] = 0
    for number in range(2, int(limit ** 0.5) + 1):
        if sieve[number]:
            sieve[number * number::number] = bytes(len(range(number * number, limit, number)))
    return sum(sieve)
