"""Say what a pending asyncio task is waiting on, in the words a learner uses.

The coroutine chain of a suspended task (``cr_await`` links) ends in a frame of
asyncio's own code, such as ``Queue.get``; that frame names the wait. The last
frame outside asyncio and coursekit is the learner's line that awaited it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import FrameType
from typing import Any

from coursekit.queues import TracedQueue

# Innermost asyncio frame (qualified name) -> what the task is doing, in plain words.
_WAITS = {
    "Queue.get": "waiting on queue.get(), with nothing left to take",
    "Queue.put": "waiting on queue.put() (the queue is full and nobody takes from it)",
    "Queue.join": "waiting on queue.join()",
    "Event.wait": "waiting on event.wait() (nobody set the event)",
    "Lock.acquire": "waiting to acquire a Lock",
    "Semaphore.acquire": "waiting to acquire a Semaphore",
    "Condition.wait": "waiting on condition.wait()",
    "TaskGroup.__aexit__": "waiting for the tasks of its TaskGroup to finish",
    "TaskGroup._aexit": "waiting for the tasks of its TaskGroup to finish",
    "Workload.__call__": "handling an item",
    "sleep": "sleeping in asyncio.sleep()",
    "wait": "waiting in asyncio.wait()",
    "wait_for": "waiting in asyncio.wait_for()",
}


@dataclass(frozen=True)
class StuckTask:
    """A task still pending: its name, its coroutine, what it awaits, and where."""

    name: str
    coroutine: str
    waiting_on: str
    where: str | None

    def describe(self) -> str:
        label = self.name if self.name == self.coroutine else f"{self.name} ({self.coroutine})"
        at = f", at {self.where}" if self.where else ""
        return f"{label} was still {self.waiting_on}{at}"


def describe_pending(tasks: list[asyncio.Task[Any]]) -> list[StuckTask]:
    """Describe each task that is not done, sorted by task name."""
    return sorted((_describe(task) for task in tasks if not task.done()), key=lambda t: t.name)


def _describe(task: asyncio.Task[Any]) -> StuckTask:
    frames = _await_chain(task.get_coro())
    coroutine = getattr(task.get_coro(), "__name__", repr(task.get_coro()))
    last_user = max((i for i, f in enumerate(frames) if not _is_library(f)), default=-1)
    library = frames[last_user + 1 :]  # what the learner's innermost frame is waiting in
    where = None
    if last_user >= 0:
        frame = frames[last_user]
        where = f"line {frame.f_lineno} of {frame.f_code.co_name}()"
    waiting_on = "waiting on a future that nobody completes"
    if library:
        entry = library[0]  # the library call the learner's code made; deeper frames are its internals
        qualname = entry.f_code.co_qualname
        waiting_on = next(
            (text for name, text in _WAITS.items() if qualname == name or qualname.endswith("." + name)),
            f"waiting in {qualname}()",
        )
        queue = entry.f_locals.get("self")
        if qualname == "Queue.join" and isinstance(queue, TracedQueue):
            waiting_on += f": {queue.unfinished} of {queue.put_count} items put were never marked task_done()"
    return StuckTask(task.get_name(), coroutine, waiting_on, where)


def _await_chain(coro: object) -> list[FrameType]:
    """The frames of a suspended coroutine and everything it awaits, outermost first."""
    frames: list[FrameType] = []
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is None:
            break
        frames.append(frame)
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return frames


def _is_library(frame: FrameType) -> bool:
    """asyncio's and coursekit's own frames; a chapter's check scenarios count as user code,
    so that a wait is described at the learner's call, not inside the scenario."""
    filename = frame.f_code.co_filename
    return "/asyncio/" in filename or ("/coursekit/" in filename and not is_chapter_checks(filename))


def is_chapter_checks(filename: str) -> bool:
    """Whether ``filename`` is a chapter's checks module (``coursekit/chapters/<topic>/checks.py``)."""
    return "/coursekit/chapters/" in filename and filename.endswith("/checks.py")
