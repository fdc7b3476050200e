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
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """Every kind of event the course's own code emits or reads. A member is its string
    (``Kind.WORK_START == "work.start"``), so a learner's ``emit("work.start")`` is the same kind."""

    BATCH_RESULT = "batch.result"  # a micro-batcher handed a caller its result
    BATCH_SUBMIT = "batch.submit"  # a caller submitted an item to a micro-batcher
    BREAKER_REJECTED = "breaker.rejected"  # a circuit breaker refused a call
    BREAKER_STATE = "breaker.state"  # a circuit breaker changed state: name, old, new
    CALL_END = "call.end"  # a caller's call through the resilient client ended
    CALL_START = "call.start"  # a caller's call through the resilient client started
    CHECK_RAISED = "check.raised"  # a check's scenario saw the function under test raise
    CHECK_RETURNED = "check.returned"  # a check's scenario saw the function under test return
    HTTP_CLIENT = "http.client"  # the course's service made a client's connection pool
    HTTP_CONNECT = "http.connect"  # the course's service opened a connection
    JOB_START = "job.start"  # chapter 0's own demo event
    JOB_STATUS = "job.status"  # a job changed status
    JOB_SUBMITTED = "job.submitted"  # a job was handed to a worker pool
    LIMITER_ADMITTED = "limiter.admitted"  # a rate limiter let a request through: amount, waited
    LIMITER_CANCELLED = "limiter.cancelled"  # a request was cancelled while it waited for a limiter
    LIMITER_FAILED = "limiter.failed"  # a limiter raised for a request
    LIMITER_REFUSED = "limiter.refused"  # a limiter refused a request: retry_after
    LIMITER_REQUEST = "limiter.request"  # a request asked a limiter
    LIMITER_TRACKED = "limiter.tracked"  # how many clients a per-client limiter keeps state for
    LOAD_DONE = "load.done"  # a load generator's request ended
    LOAD_SENT = "load.sent"  # a load generator sent a request
    MIDDLEWARE_ADMITTED = "middleware.admitted"  # the 429 middleware let a request through
    MIDDLEWARE_LIMITED = "middleware.limited"  # the 429 middleware answered 429
    PROBE_ENDED = "probe.ended"  # a breaker's trial call ended
    PROBE_RAISED = "probe.raised"  # a breaker's trial call raised
    QUEUE_FULL = "queue.full"  # a put found the queue full
    QUEUE_GET = "queue.get"  # an item was taken from a queue: item, depth
    QUEUE_PUT = "queue.put"  # an item was put into a queue: item, depth
    QUEUE_TASK_DONE = "queue.task_done"  # task_done() was called
    REQUEST_END = "request.end"  # an HTTP request ended
    REQUEST_START = "request.start"  # an HTTP request started
    RETRY_ATTEMPT = "retry.attempt"  # a retrying call made an attempt
    RETRY_OUTCOME = "retry.outcome"  # a retrying call ended
    SERVER_REQUEST = "server.request"  # the course's service received a request
    SERVER_RESPONSE = "server.response"  # the course's service answered
    SERVER_STALLED = "server.stalled"  # the course's service held a request without answering
    SOURCE_ASK = "source.ask"  # a producer asked its source for the next item
    SOURCE_TAKE = "source.take"  # a producer took an item from its source
    STREAM_CLOSED = "stream.closed"  # a merged stream ended
    STREAM_ITEM = "stream.item"  # a merged stream gave an item
    WORK_END = "work.end"  # a handler call ended: item, outcome
    WORK_START = "work.start"  # a handler call started: item


@dataclass(frozen=True)
class Event:
    """One thing that happened: ``kind`` (a :class:`Kind` for the course's own events, e.g.
    ``"queue.put"``), when, in which task."""

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
