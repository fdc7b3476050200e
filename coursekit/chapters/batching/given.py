"""What chapter 3 gives the learner for micro-batching: the types, and callers that submit.

- An **entry** is ``(item, future)``: one caller's item, and the future that will hold
  that caller's result. A batcher's inbox holds entries, then :data:`~coursekit.queues.STOP`.
- A **batch handler** is ``await handler(items)``: one result per item, in order.
- A **batcher** is made by ``make_batcher(handler, batch_size=..., max_wait=...)`` (the
  learner's ``MicroBatcher`` class) inside a running loop, and has ``await submit(item)``
  and ``await close()``; it is also an async context manager.

:func:`traced_submit` emits ``batch.submit`` before and ``batch.result`` (with
``outcome``) after one ``submit``, the events :func:`coursekit.analysis.item_waits`
reads; :func:`serve` and :func:`caller_reports` play callers arriving at given times.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol

from coursekit.events import Kind, emit

Entry = tuple[Any, "asyncio.Future[Any]"]
BatchHandler = Callable[[list[Any]], Awaitable[Sequence[Any]]]


class Batcher(Protocol):
    """What every batcher has (the learner's ``MicroBatcher``); items and results are the callers'."""

    async def submit(self, item: Any) -> Any: ...

    async def close(self) -> None: ...


class MakeBatcher(Protocol):
    """How a batcher is made, to be used with ``async with``: the learner's ``MicroBatcher`` class."""

    def __call__(
        self, handler: BatchHandler, *, batch_size: int, max_wait: float
    ) -> contextlib.AbstractAsyncContextManager[Batcher]: ...


async def traced_submit(batcher: Batcher, item: Any) -> Any:
    """``await batcher.submit(item)``, between a ``batch.submit`` and a ``batch.result`` event."""
    emit(Kind.BATCH_SUBMIT, item=item)
    outcome = "cancelled"
    try:
        result = await batcher.submit(item)
        outcome = "done"
        return result
    except Exception:
        outcome = "failed"
        raise
    finally:
        emit(Kind.BATCH_RESULT, item=item, outcome=outcome)


async def serve(
    make_batcher: MakeBatcher,
    arrivals: Iterable[tuple[float, Any]],
    handler: BatchHandler,
    *,
    batch_size: int,
    max_wait: float,
) -> list[Any]:
    """Each ``(time, item)`` is a caller that submits ``item`` at that virtual time; their results.

    The batcher is used with ``async with``: it is closed once every caller has its result."""
    async with make_batcher(handler, batch_size=batch_size, max_wait=max_wait) as batcher:

        async def caller(at: float, item: Any) -> Any:
            await asyncio.sleep(at)
            return await traced_submit(batcher, item)

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(caller(at, item)) for at, item in arrivals]
    return [task.result() for task in tasks]


async def caller_reports(submit: Callable[[Any], Awaitable[Any]], arrivals: Iterable[tuple[Any, float]]) -> list[str]:
    """Each ``(item, time)`` is a caller of ``submit``; what each one saw, and how long it took."""
    loop = asyncio.get_running_loop()

    async def caller(item: Any, at: float) -> str:
        await asyncio.sleep(at)
        try:
            await submit(item)
            return f"caller {item} (t={at:g} s): result after {loop.time() - at:.1f} s"
        except Exception as error:
            return f"caller {item} (t={at:g} s): {type(error).__name__} after {loop.time() - at:.1f} s"

    tasks = [asyncio.create_task(caller(item, at), name=f"caller-{item}") for item, at in arrivals]
    return await asyncio.gather(*tasks)


__all__ = ["BatchHandler", "Batcher", "Entry", "MakeBatcher", "caller_reports", "serve", "traced_submit"]
