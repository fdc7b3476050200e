"""Chapter 1 reference solution: producer/consumer pipelines on an asyncio.Queue.

Semantics shared by every function here:

- Items are hashable; ``results[item]`` is what ``handle(item)`` returned and
  ``failures[item]`` the ``Exception`` it raised. Each item taken from the queue
  is handled exactly once; an ``Exception`` from ``handle`` never stops a consumer.
- Every item taken from the queue, :data:`~coursekit.queues.STOP` included, is
  marked ``task_done()`` exactly once, even when ``handle`` raises or the consumer
  is cancelled, so ``queue.join()`` always returns once the queue is drained.
- A pipeline ends its consumers with one ``STOP`` per consumer, put after the
  last item, and returns only when every task it started has finished.
  Cancelling it cancels every task it started (they run in a ``TaskGroup``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Sequence
from typing import Any

from coursekit.queues import STOP, TracedQueue


async def consumer(
    queue: asyncio.Queue, handle: Callable[[Any], Awaitable[Any]], results: dict, failures: dict
) -> None:
    """Handle items from ``queue`` until ``STOP``; record each outcome; task_done() every item."""
    while True:
        item = await queue.get()
        try:
            if item is STOP:
                return
            try:
                results[item] = await handle(item)
            except Exception as error:  # a failing item must not kill the consumer
                failures[item] = error
        finally:
            queue.task_done()


async def run_pipeline(
    sources: Sequence[Iterable[Any]], handle: Callable[[Any], Awaitable[Any]], *, consumers: int, maxsize: int
) -> tuple[dict, dict]:
    """One producer per source and ``consumers`` consumers on a queue of ``maxsize`` items."""
    queue: TracedQueue = TracedQueue(maxsize)
    results: dict = {}
    failures: dict = {}

    async def produce(items: Iterable[Any]) -> None:
        for item in items:
            await queue.put(item)  # waits while the queue is full: backpressure

    async with asyncio.TaskGroup() as group:
        for number in range(1, consumers + 1):
            group.create_task(consumer(queue, handle, results, failures), name=f"consumer-{number}")
        async with asyncio.TaskGroup() as producers:
            for number, items in enumerate(sources, start=1):
                producers.create_task(produce(items), name=f"producer-{number}")
        for _ in range(consumers):
            await queue.put(STOP)  # one per consumer, after every item
    return results, failures


async def serve(
    source: AsyncIterable[Any],
    handle: Callable[[Any], Awaitable[Any]],
    *,
    consumers: int,
    maxsize: int,
    stop: asyncio.Event,
) -> tuple[dict, dict]:
    """Feed items from ``source`` to consumers until it ends or ``stop`` is set, then drain.

    Graceful shutdown: once ``stop`` is set, no new item is taken from ``source``
    (a pending wait for the next item is cancelled), every item already taken is
    handled, and the consumers end."""
    queue: TracedQueue = TracedQueue(maxsize)
    results: dict = {}
    failures: dict = {}
    async with asyncio.TaskGroup() as group:
        for number in range(1, consumers + 1):
            group.create_task(consumer(queue, handle, results, failures), name=f"consumer-{number}")
        stop_requested = group.create_task(stop.wait(), name="stop-watcher")
        items = aiter(source)
        while not stop.is_set():
            next_item = asyncio.ensure_future(anext(items))
            await asyncio.wait({next_item, stop_requested}, return_when=asyncio.FIRST_COMPLETED)
            if not next_item.done():  # stop came first: take nothing more
                next_item.cancel()
                await asyncio.wait({next_item})
                break
            try:
                item = next_item.result()
            except StopAsyncIteration:
                break
            await queue.put(item)  # an item taken is an item handled, stop or not
        stop_requested.cancel()
        for _ in range(consumers):
            await queue.put(STOP)
    return results, failures
