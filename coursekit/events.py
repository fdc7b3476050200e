"""Events that pattern code emits, and the recorder that collects them.

Pattern code calls :func:`emit`; it does nothing unless a :class:`Recorder` is
listening, so the patterns never print or plot. :func:`recording` installs a
recorder for the current context, and tasks created inside inherit it (asyncio
copies the context into every new task).

An event's ``time`` is the running loop's clock in seconds (virtual seconds under
:func:`coursekit.virtual_time.run_virtual`), or ``None`` when no loop is running.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    """One thing that happened: ``kind`` (e.g. ``"queue.put"``), when, in which task."""

    time: float | None
    kind: str
    task: str | None
    fields: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]


class Recorder:
    """An append-only list of events, in the order they were emitted."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def record(self, kind: str, **fields: Any) -> None:
        try:
            loop_time: float | None = asyncio.get_running_loop().time()
            task = asyncio.current_task()
            task_name = task.get_name() if task is not None else None
        except RuntimeError:
            loop_time, task_name = None, None
        self.events.append(Event(loop_time, kind, task_name, fields))

    def of_kind(self, *kinds: str) -> list[Event]:
        """The events whose kind is one of ``kinds``, in emission order."""
        return [event for event in self.events if event.kind in kinds]


_active: ContextVar[Recorder | None] = ContextVar("coursekit_recorder", default=None)


def emit(kind: str, **fields: Any) -> None:
    """Record an event with the active recorder, if there is one."""
    recorder = _active.get()
    if recorder is not None:
        recorder.record(kind, **fields)


@contextmanager
def recording() -> Iterator[Recorder]:
    """Collect every event emitted in this context (and tasks it creates) until exit."""
    recorder = Recorder()
    token = _active.set(recorder)
    try:
        yield recorder
    finally:
        _active.reset(token)
