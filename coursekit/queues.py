"""A queue that reports what happens to it, and the end-of-stream marker.

:class:`TracedQueue` behaves exactly like :class:`asyncio.Queue`; it also emits
events (see :mod:`coursekit.events`) so that checks and pictures can see a run:

- ``queue.put`` / ``queue.get``: an item went in / came out; ``depth`` is the
  number of items waiting in the queue right after (``put`` also gives ``maxsize``,
  0 meaning unbounded).
- ``queue.full``: a ``put()`` found the queue full and has to wait (backpressure).
- ``queue.task_done``: ``unfinished`` is how many items are still not marked done.

It also counts, so a diagnosis can say how many items never got ``task_done()``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from typing_extensions import TypeVar

from coursekit.events import Kind, emit

# Defaults to Any (PEP 696) so that a plain ``TracedQueue(maxsize)`` in demo code is a
# ``TracedQueue[Any]`` without a type argument.
T = TypeVar("T", default=Any)


class _Stop:
    """The type of :data:`STOP`; there is exactly one instance."""

    _instance: _Stop | None = None

    def __new__(cls) -> _Stop:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "STOP"


STOP: Any = _Stop()
"""End-of-stream marker: put one per consumer after the last item.

A dedicated object, not ``None``, because ``None`` can be a real item."""


class TracedQueue(asyncio.Queue[T]):
    """An :class:`asyncio.Queue` that emits events; ``name`` labels them."""

    def __init__(self, maxsize: int = 0, *, name: str = "queue") -> None:
        super().__init__(maxsize)
        self.name = name
        self.put_count = 0
        self.done_count = 0

    @property
    def unfinished(self) -> int:
        """Items put but not yet marked with ``task_done()``."""
        return self.put_count - self.done_count

    async def put(self, item: T) -> None:
        if self.full():
            emit(Kind.QUEUE_FULL, queue=self.name, item=item)
        await super().put(item)

    def put_nowait(self, item: T) -> None:
        super().put_nowait(item)
        self.put_count += 1
        emit(Kind.QUEUE_PUT, queue=self.name, item=item, depth=self.qsize(), maxsize=self.maxsize)

    def get_nowait(self) -> T:
        item = super().get_nowait()
        emit(Kind.QUEUE_GET, queue=self.name, item=item, depth=self.qsize())
        return item

    def task_done(self) -> None:
        super().task_done()
        self.done_count += 1
        emit(Kind.QUEUE_TASK_DONE, queue=self.name, unfinished=self.unfinished)
