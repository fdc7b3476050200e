"""Chapter 5 reference solution: a fallback on timeout, a deadline passed down, a graceful shutdown.

Times are the running loop's clock (``loop.time()``), virtual seconds under
:func:`coursekit.virtual_time.run_virtual`. "Cancelled" means the task ended with
``CancelledError``; asyncio's rule holds throughout: code that catches
``CancelledError`` to clean up re-raises it.

:func:`call_with_fallback` — run ``operation()`` once. If it returns within ``timeout``
seconds, its result; if not, it is cancelled, its cleanup runs to the end, and
``fallback`` is returned. Only this call's own deadline gives the fallback: an error the
operation raises, ``TimeoutError`` included, propagates unchanged. If the caller is
cancelled, the operation is cancelled too and ``CancelledError`` propagates.

:class:`Deadline` — an absolute point on the loop's clock by which work must be done,
passed down nested calls so that each layer takes what is left (Go's
``context.WithTimeout``). ``remaining()`` is never negative; ``expired()`` is true from
``when`` on (inclusive); a ``child`` never ends later than its parent; ``scope()`` raises
``TimeoutError`` in the block at ``when``.

:func:`shutdown` — wait up to ``grace`` seconds for every task to end; cancel those still
running and wait until they have ended (their cleanup included); report how each ended:
``"finished"`` (returned), ``"failed"`` (raised an exception, which is retrieved, not
raised), ``"cancelled"``. Returns as soon as every task has ended.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from typing import Any, Literal, Self, TypeVar

T = TypeVar("T")
Outcome = Literal["finished", "failed", "cancelled"]


# ----------------------------------------------------------------- exercise 1


async def call_with_fallback(operation: Callable[[], Awaitable[T]], timeout: float, fallback: T) -> T:
    """``await operation()``, or ``fallback`` if it has not returned after ``timeout`` seconds."""
    try:
        async with asyncio.timeout(timeout) as scope:
            return await operation()
    except TimeoutError:
        if scope.expired():  # our deadline, not a TimeoutError of the operation's own
            return fallback
        raise


# ----------------------------------------------------------------- exercise 2


class Deadline:
    """A point in time (``when``, on the running loop's clock) by which work must be done.

    Pass it down nested calls; each layer uses :meth:`remaining`, or :meth:`child` for a
    shorter budget of its own, and :meth:`scope` to enforce it::

        deadline = Deadline.after(5.0)
        async with deadline.scope():        # TimeoutError at the deadline
            await step_one(deadline.child(2.0))
    """

    def __init__(self, when: float) -> None:
        self.when = when

    @classmethod
    def after(cls, seconds: float) -> Self:
        """The deadline ``seconds`` from now."""
        ### BEGIN SOLUTION
        return cls(asyncio.get_running_loop().time() + seconds)
        ### END SOLUTION

    def remaining(self) -> float:
        """Seconds left until the deadline; 0.0 once it has passed (never negative)."""
        ### BEGIN SOLUTION
        return max(0.0, self.when - asyncio.get_running_loop().time())
        ### END SOLUTION

    def expired(self) -> bool:
        """Has the deadline been reached? True from ``when`` on, ``when`` included."""
        ### BEGIN SOLUTION
        return asyncio.get_running_loop().time() >= self.when
        ### END SOLUTION

    def child(self, seconds: float) -> Self:
        """A deadline ``seconds`` from now, but never later than this one."""
        ### BEGIN SOLUTION
        return type(self)(min(self.when, asyncio.get_running_loop().time() + seconds))
        ### END SOLUTION

    def scope(self) -> asyncio.Timeout:
        """An ``async with`` block that is cancelled at the deadline and then raises ``TimeoutError``."""
        ### BEGIN SOLUTION
        return asyncio.timeout_at(self.when)
        ### END SOLUTION


# ----------------------------------------------------------------- exercise 3


async def shutdown(tasks: Collection[asyncio.Task[Any]], grace: float) -> dict[str, Outcome]:
    """Let ``tasks`` end within ``grace`` seconds, cancel the rest, wait for them; how each ended, by name."""
    if tasks:
        _, still_running = await asyncio.wait(tasks, timeout=grace)
        for task in still_running:
            task.cancel()
        if still_running:
            await asyncio.wait(still_running)  # until each has cleaned up and ended
    report: dict[str, Outcome] = {}
    for task in tasks:
        if task.cancelled():
            report[task.get_name()] = "cancelled"
        else:  # exception() also marks a failure as retrieved: asyncio will not log it
            report[task.get_name()] = "failed" if task.exception() is not None else "finished"
    return report
