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

from coursekit.checks import leaf_exceptions
from coursekit.events import Kind, emit


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
        emit(Kind.WORK_START, item=item)
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
            emit(Kind.WORK_END, item=item, outcome=outcome)


def find_item_failure(error: BaseException | None) -> BaseException | None:
    """The ItemFailed in ``error`` (alone or inside an exception group), if any."""
    if isinstance(error, BaseExceptionGroup):
        match, _ = error.split(ItemFailed)
        return next(iter(leaf_exceptions(match)), None) if match is not None else None
    return error if isinstance(error, ItemFailed) else None


def count_primes(limit: int) -> int:
    """How many primes are below ``limit`` (a sieve): a CPU-bound stand-in for real work.

    Defined here, not in a notebook, so that worker processes can import it."""
    if limit < 3:
        return 0
    sieve = bytearray([1]) * limit
    sieve[0] = sieve[1] = 0
    for number in range(2, int(limit**0.5) + 1):
        if sieve[number]:
            sieve[number * number :: number] = bytes(len(range(number * number, limit, number)))
    return sum(sieve)


class BatchWorkload:
    """A stand-in for a batch API: ``await work(items)`` handles a whole list at once.

    A call takes ``duration(items)`` simulated seconds (or ``duration`` if it is a
    number), then returns ``[Workload.expected(item) for item in items]``, or raises
    :class:`ItemFailed` if any item is in ``failing`` (the whole call fails, as a real
    batch request would). ``connections`` (if given) is how many calls the backend
    serves at once; further calls wait for a free one, and that wait is part of their
    duration.

    Emits ``work.start`` and ``work.end`` with ``item`` = the tuple of items and ``size``,
    so :func:`in_flight` counts calls in flight; ``batches`` lists the calls' item lists."""

    def __init__(
        self,
        duration: float | Callable[[list[Any]], float] = 1.0,
        failing: Iterable[Hashable] = (),
        *,
        connections: int | None = None,
    ) -> None:
        self._duration = duration
        self.failing = frozenset(failing)
        self.connections = connections
        self.batches: list[list[Any]] = []  # the items of each call, in call order
        self._backend: asyncio.Semaphore | None = None

    def duration(self, items: list[Any]) -> float:
        return self._duration(items) if callable(self._duration) else self._duration

    async def __call__(self, items: list[Any]) -> list[Any]:
        items = list(items)
        self.batches.append(items)
        emit(Kind.WORK_START, item=tuple(items), size=len(items))
        outcome = "cancelled"
        try:
            if self.connections is None:
                await asyncio.sleep(self.duration(items))
            else:
                if self._backend is None:
                    self._backend = asyncio.Semaphore(self.connections)
                async with self._backend:
                    await asyncio.sleep(self.duration(items))
            failed = [item for item in items if item in self.failing]
            if failed:
                outcome = "failed"
                raise ItemFailed(f"batch with item {failed[0]!r} failed")
            outcome = "done"
            return [Workload.expected(item) for item in items]
        finally:
            emit(Kind.WORK_END, item=tuple(items), size=len(items), outcome=outcome)
