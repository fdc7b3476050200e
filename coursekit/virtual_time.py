"""Run asyncio code on a virtual clock, beside the notebook's own event loop.

:func:`run_virtual` runs a coroutine on a fresh `looptime` event loop whose clock
starts at 0 and jumps straight to the next timer whenever every task is waiting,
so ``await asyncio.sleep(30)`` costs no wall time and every run gives the same
timings. It returns a :class:`VirtualRun`: the outcome, the events the code emitted
(:mod:`coursekit.events`), and, when something went wrong, a diagnosis.

Two limits stop a run that would never end:

- ``deadline``: simulated seconds. A run still going then is stopped and every task
  still pending is reported with what it was waiting on (``queue.get()``, ...).
  Our own timer at the deadline makes the clock jump there even when the tasks
  are deadlocked with no timer of their own.
- ``wall_limit``: real seconds. Code that blocks the thread (``time.sleep``, a busy
  loop) stops the virtual clock too; a SIGALRM interrupts it and the diagnosis
  names the blocking line.

The nested loop runs in the calling thread, which must be the main thread (as in
a Jupyter kernel, pytest or a script): only the main thread receives SIGALRM.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import signal
import threading
import traceback
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Generic, Literal, TypeVar, cast

import looptime

from coursekit.events import Event, recording
from coursekit.stuck_tasks import StuckTask, describe_pending

T = TypeVar("T")
Outcome = Literal["returned", "raised", "hung", "blocked"]


class WallClockExceeded(KeyboardInterrupt):
    """Raised inside code that kept the thread busy past the wall-clock limit.

    An interrupt, like the kernel's stop button: ``except Exception`` in the code
    under test does not swallow it, and asyncio lets it out of the event loop
    instead of storing it in the task that was running."""


class RunFailed(Exception):
    """Raised by :meth:`VirtualRun.unwrap` for a run that hung or blocked."""


@dataclass
class VirtualRun(Generic[T]):
    """What one virtual-time run did.

    ``elapsed`` is virtual seconds from start to the end of the run (the deadline
    for a hung run). ``stuck`` lists tasks still pending at the deadline;
    ``leftover`` lists tasks still pending after the main coroutine returned
    (they were cancelled). ``unhandled`` holds errors asyncio would have logged,
    such as a task exception nobody retrieved.
    """

    outcome: Outcome
    value: T | None
    error: BaseException | None
    events: list[Event]
    elapsed: float
    deadline: float
    stuck: list[StuckTask] = field(default_factory=list)
    leftover: list[StuckTask] = field(default_factory=list)
    unhandled: list[str] = field(default_factory=list)
    blocked_at: str | None = None

    def of_kind(self, *kinds: str) -> list[Event]:
        return [event for event in self.events if event.kind in kinds]

    @property
    def diagnosis(self) -> str:
        """A plain-language account of why the run did not return normally."""
        if self.outcome == "hung":
            lines = [f"after {self.deadline:g} simulated seconds the code had not finished;"]
            lines += [f"  {task.describe()}" for task in self.stuck]
            if self.unhandled:
                lines += ["meanwhile, errors that no code ever looked at:"]
                lines += [f"  {error}" for error in self.unhandled]
            return "\n".join(lines)
        if self.outcome == "blocked":
            return (
                f"the code blocked the event loop for more than the wall-clock limit "
                f"(at {self.blocked_at}); nothing else can run meanwhile, not even the clock. "
                "Use `await asyncio.sleep(...)` instead of time.sleep(), and make long loops await."
            )
        if self.outcome == "raised":
            return f"raised {type(self.error).__name__}: {self.error}"
        return "returned normally"

    def unwrap(self) -> T:
        """The value returned; re-raise the code's own error; RunFailed for a hang or block."""
        if self.outcome == "raised":
            assert self.error is not None
            raise self.error
        if self.outcome in ("hung", "blocked"):
            raise RunFailed(self.diagnosis)
        return cast(T, self.value)  # it returned: the value is a T (None only if T allows it)

    def __repr__(self) -> str:
        return (
            f"<VirtualRun {self.outcome} after {self.elapsed:g} simulated s, "
            f"{len(self.events)} events, value={self.value!r}>"
        )


def run_virtual(
    main: Callable[[], Awaitable[T]] | Coroutine[Any, Any, T],
    *,
    deadline: float = 60.0,
    wall_limit: float = 10.0,
) -> VirtualRun[T]:
    """Run ``main`` (a coroutine, or a function returning one) on a virtual clock.

    Never raises for the code's own behaviour: an exception, a hang past ``deadline``
    simulated seconds, or a block past ``wall_limit`` real seconds is reported in the
    returned :class:`VirtualRun`. KeyboardInterrupt (the kernel's stop button) still
    propagates.
    """
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("run_virtual() must be called from the main thread (it uses SIGALRM)")
    gc.freeze()  # what existed before: the collection at the end looks at this run's objects only
    loop = looptime.new_event_loop(start=0)
    unhandled: list[str] = []
    loop.set_exception_handler(lambda _loop, context: unhandled.append(_describe_context(context)))
    outer_loop = asyncio._get_running_loop()
    previous_handler = signal.signal(signal.SIGALRM, _raise_wall_clock_exceeded)
    asyncio._set_running_loop(None)
    with recording() as recorder:
        supervisor = loop.create_task(_supervise(main, deadline), name="run_virtual")
        # Fire once at the limit, then every 0.5 s, for code that catches it and goes on.
        signal.setitimer(signal.ITIMER_REAL, wall_limit, 0.5)
        try:
            run = loop.run_until_complete(supervisor)
        except WallClockExceeded as blocked:
            signal.setitimer(signal.ITIMER_REAL, 0)
            run = VirtualRun(
                "blocked", None, blocked, [], loop.time(), deadline, blocked_at=_innermost_user_line(blocked)
            )
            _cancel_everything(loop, wall_limit=1.0)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous_handler)
            gc.collect()  # finished tasks nobody kept report unretrieved errors now, not at random later
            gc.unfreeze()
            loop.close()
            asyncio._set_running_loop(outer_loop)
    run.events = recorder.events
    run.unhandled = unhandled
    return run


async def _supervise(main: Callable[[], Awaitable[T]] | Coroutine[Any, Any, T], deadline: float) -> VirtualRun[T]:
    awaitable = main if inspect.isawaitable(main) else main()
    main_task = asyncio.ensure_future(awaitable)
    if isinstance(main_task, asyncio.Task) and main_task.get_name().startswith("Task-"):
        main_task.set_name("main")
    await asyncio.wait({main_task}, timeout=deadline)
    loop = asyncio.get_running_loop()
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    if not main_task.done():
        stuck = describe_pending(others)
        await _cancel_and_wait(others)
        return VirtualRun("hung", None, None, [], loop.time(), deadline, stuck=stuck)
    leftover = describe_pending(others)
    await _cancel_and_wait(others)
    if main_task.cancelled():
        return VirtualRun("raised", None, asyncio.CancelledError(), [], loop.time(), deadline, leftover=leftover)
    error = main_task.exception()
    if error is not None:
        return VirtualRun("raised", None, error, [], loop.time(), deadline, leftover=leftover)
    return VirtualRun("returned", main_task.result(), None, [], loop.time(), deadline, leftover=leftover)


async def _cancel_and_wait(tasks: list[asyncio.Task[Any]], rounds: int = 3) -> None:
    """Cancel ``tasks`` and let them unwind; tasks that swallow cancellation get a few more tries."""
    for _ in range(rounds):
        pending = [t for t in tasks if not t.done()]
        if not pending:
            return
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=1.0)
    for task in tasks:  # retrieve exceptions so asyncio does not log them
        if task.done() and not task.cancelled():
            task.exception()


def _cancel_everything(loop: asyncio.AbstractEventLoop, wall_limit: float) -> None:
    """After a block: cancel what is left, with a fresh short wall-clock limit."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    if not pending:
        return
    signal.setitimer(signal.ITIMER_REAL, wall_limit, 0.5)
    cleanup = _cancel_and_wait(pending)
    try:
        loop.run_until_complete(cleanup)
    except WallClockExceeded:
        pass  # another task blocked first: give up on the rest
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        # Coroutines that never got to start would warn "never awaited" when collected.
        for coroutine in [cleanup, *(task.get_coro() for task in asyncio.all_tasks(loop))]:
            if inspect.iscoroutine(coroutine) and inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED:
                coroutine.close()


def _raise_wall_clock_exceeded(signum: int, frame: FrameType | None) -> None:
    raise WallClockExceeded("the code kept the thread busy past the wall-clock limit")


def _innermost_user_line(error: BaseException) -> str:
    """Where the blocking code was: the innermost frame outside coursekit and asyncio."""
    frames = [
        f
        for f in traceback.extract_tb(error.__traceback__)
        if "/asyncio/" not in f.filename and "/coursekit/" not in f.filename
    ]
    if not frames:
        return "an unknown place"
    frame = frames[-1]
    return (
        f"line {frame.lineno} of {frame.name}(): {frame.line}"
        if frame.line
        else f"line {frame.lineno} of {frame.name}()"
    )


def _describe_context(context: dict[str, Any]) -> str:
    exception = context.get("exception")
    message: str = context.get("message", "")
    task = context.get("task") or context.get("future")
    if isinstance(task, asyncio.Task):
        message = f"{message} (task {task.get_name()})"
    if exception is not None:
        return f"{message}: {type(exception).__name__}: {exception}"
    return message
