"""Chapter 4 reference solution: fan-out / fan-in with asyncio.

Four shapes of "start many, collect the answers":

- :func:`fetch_all`: many HTTP requests on **one shared client**, at most
  ``limit`` in flight; ``results[i]`` belongs to ``urls[i]`` (input order, not
  completion order) and is either the response body or the ``Exception`` that
  request raised. One failing URL never affects the others.
- :func:`run_all`: all or nothing. Results in input order when every call
  succeeds; the **first** failure cancels every sibling still running (each has
  ended, cancelled, before ``run_all`` raises) and surfaces as an
  ``ExceptionGroup`` holding the failure(s).
- :func:`merge`: fan-in of async streams. Yields every item of every stream
  exactly once, as soon as it is produced, and ends when the last stream ends. When
  the consumer stops early (``aclose()``, cancellation) or a stream raises, merge
  cancels its pumping tasks, waits for them and closes every stream before it
  returns or raises; a stream's exception is re-raised to the consumer.
- :func:`first_success`: a race won by the first attempt that **succeeds**
  (a failure does not end the race). The losers are cancelled and have ended
  before it returns. When every attempt fails it raises
  ``ExceptionGroup("every attempt failed", errors)`` with the errors in input
  order, once the last attempt has failed.

Time is whatever clock the running loop has (virtual seconds under
:func:`coursekit.virtual_time.run_virtual`). No task started here outlives the call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable, Coroutine, Hashable, Sequence
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


async def fetch_all(client: httpx.AsyncClient, urls: Sequence[str], *, limit: int = 10) -> list[str | BaseException]:
    """GET every URL with ``client``, at most ``limit`` at once; bodies or errors, in input order."""
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(url: str) -> str:
        async with semaphore:
            response = await client.get(url)
        response.raise_for_status()  # a 4xx/5xx becomes httpx.HTTPStatusError
        return response.text

    # return_exceptions=True: an error is stored in its URL's place instead of
    # escaping and leaving the other requests running unobserved.
    return await asyncio.gather(*(fetch_one(url) for url in urls), return_exceptions=True)


async def run_all(handle: Callable[[Any], Coroutine[Any, Any, T]], items: Sequence[Hashable]) -> list[T]:
    """``[await handle(item) for item in items]``, all at once; the first failure cancels the rest."""
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(handle(item), name=f"item-{item!r}") for item in items]
    return [task.result() for task in tasks]


async def merge(*streams: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
    """Yield the items of every stream as they come; end when all streams have ended."""
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=1)  # a pump waits while its item is unread

    async def pump(stream: AsyncGenerator[T, None]) -> None:
        async with contextlib.aclosing(stream):  # closed however the pump ends
            try:
                async for item in stream:
                    await queue.put(("item", item))
            except Exception as error:
                await queue.put(("error", error))
                return
        await queue.put(("end", None))

    pumps = [asyncio.create_task(pump(stream), name=f"pump-{number}") for number, stream in enumerate(streams, 1)]
    try:
        running = len(pumps)
        while running:
            kind, value = await queue.get()
            if kind == "item":
                yield value
            elif kind == "end":
                running -= 1
            else:
                raise value
    finally:  # the consumer stopped early, a stream failed, or every stream ended
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)


async def first_success(*attempts: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run every attempt at once; return the first successful result and cancel the others."""
    if not attempts:
        raise ValueError("first_success() needs at least one attempt")
    tasks = [asyncio.create_task(attempt(), name=f"attempt-{number}") for number, attempt in enumerate(attempts)]
    try:
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:  # input order breaks ties between attempts done at the same instant
                if task in done and task.exception() is None:
                    return task.result()
        # Every attempt has failed: each task holds its exception.
        errors = [error for task in tasks if isinstance(error := task.exception(), Exception)]
        raise ExceptionGroup("every attempt failed", errors)
    finally:
        for task in tasks:
            task.cancel()
        # The losers have ended before we return (or raise).
        await asyncio.gather(*tasks, return_exceptions=True)
