"""The scenario kit the chapters' checks, probes and picture runs share: make the learner's
object, run a scenario on the virtual clock, wait for an instant, time one call and record what it
did (:class:`Outcome`), spy on a collaborator (:class:`Spy`), and cancel a call at each of its
waits in turn (:func:`cancelled_at`, :func:`sweep_instants`, :func:`cancellation_sweep`,
:func:`ends_cancelled_at_each_wait`). One copy for every chapter.

A check is a scenario plus named properties: the scenario runs the learner's code once and returns
what it observed (a run, outcomes, spies); each property is a small function of that observation
that passes the check's :class:`~coursekit.checks.Chain` or fails it with its own hint.

Every failure goes through the check's :class:`~coursekit.checks.Chain`, so it names the
property, what was observed and a hint, like any other.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, ParamSpec, TypeVar

from coursekit.checks import Chain, describe_error
from coursekit.virtual_time import VirtualRun, run_virtual

T = TypeVar("T")
P = ParamSpec("P")
KEEP_THE_CONSTRUCTOR = "keep the given constructor and its parameters"


async def sleep_until(when: float) -> None:
    """Sleep until the running loop's clock reads ``when`` (return at once if it already has)."""
    await asyncio.sleep(max(0.0, when - asyncio.get_running_loop().time()))


def require_class(chain: Chain, cls: object, name: str) -> None:
    """Fail ``chain`` ("``name`` is a class") unless ``cls`` is a class: the cell defining it was not run,
    or the name was rebound."""
    chain.require(
        inspect.isclass(cls),
        f"{name} is a class",
        observed=f"{name} is {cls!r}",
        hint=f"run the cell that defines `class {name}`",
    )


def make(chain: Chain, cls: Callable[..., T], name: str, /, *, hint: str = KEEP_THE_CONSTRUCTOR, **settings: Any) -> T:
    """``cls(**settings)``, the learner's class made outside any run (a constructor needs no loop);
    fails ``chain`` if ``cls`` is no class, or with "``name``\\ (settings) can be made" if it raises."""
    require_class(chain, cls, name)
    try:
        return cls(**settings)
    except Exception as error:  # noqa: BLE001  (reported)
        shown = ", ".join(f"{key}={value!r}" for key, value in settings.items())
        chain.fail(f"{name}({shown}) can be made", observed=f"raised {describe_error(error)}", hint=hint)


def run_scenario(
    chain: Chain,
    main: Callable[[], Awaitable[T]],
    *,
    deadline: float,
    what: str = "the scenario",
    hang_hint: str | None = None,
    blocked_hint: str | None = None,
    unhandled_hint: str | None = None,
) -> VirtualRun[T]:
    """Run ``main`` on the virtual clock (:func:`~coursekit.virtual_time.run_virtual`, ``deadline``
    virtual seconds) and fail ``chain`` unless it finished: ``what`` names the scenario in the
    failure, ``hang_hint`` says what usually hangs it. With ``blocked_hint``, a run that blocked
    the event loop fails first, "never blocks the event loop"; with ``unhandled_hint``, a finished
    run fails if it left an error no one retrieved. The run, for its value and events."""
    run: VirtualRun[T] = run_virtual(main, deadline=deadline)
    if blocked_hint is not None and run.outcome == "blocked":
        chain.fail(f"{what} never blocks the event loop", observed=run.diagnosis, hint=blocked_hint)
    chain.require_finished(run, what, hang_hint=hang_hint)
    if unhandled_hint is not None:
        chain.require(
            not run.unhandled,
            f"{what} leaves no error unretrieved",
            observed=lambda: "; ".join(run.unhandled),
            hint=unhandled_hint,
        )
    return run


@dataclass
class Outcome:
    """What one awaited call did, on the loop's clock: when it was asked and ended, and its value, or
    the error it raised (``cancelled`` when that error was ``CancelledError``)."""

    asked: float
    ended: float | None = None
    value: Any = None
    error: BaseException | None = None

    @property
    def cancelled(self) -> bool:
        return isinstance(self.error, asyncio.CancelledError)

    @property
    def took(self) -> float | None:
        """Seconds from asked to ended (None while it runs)."""
        return None if self.ended is None else self.ended - self.asked

    def describe(self, show: Callable[[Any], str] = repr) -> str:
        """``returned VALUE at t=..`` or ``raised ERROR at t=..``; ``show`` words a value."""
        what = f"raised {describe_error(self.error)}" if self.error is not None else f"returned {show(self.value)}"
        return f"{what} at t={self.ended:g}" if self.ended is not None else f"{what} (still running)"


async def timed_call(call: Awaitable[Any], *, catch: type[BaseException] = Exception) -> Outcome:
    """Await ``call`` and record its :class:`Outcome`. Errors of type ``catch`` are recorded (pass
    ``BaseException`` to record a cancellation too); any other propagates."""
    loop = asyncio.get_running_loop()
    outcome = Outcome(loop.time())
    try:
        outcome.value = await call
    except catch as error:
        outcome.error = error
    outcome.ended = loop.time()
    return outcome


@dataclass
class Spy(Generic[P, T]):
    """An async callable that stands in for a collaborator and records each call: the loop time it
    started, its arguments, and its :class:`Outcome` once it ended. ``behaviour`` does the work."""

    behaviour: Callable[P, Awaitable[T]]
    name: str = "spy"
    calls: list[tuple[float, tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    def __repr__(self) -> str:
        return self.name

    async def __call__(self, *args: P.args, **kwargs: P.kwargs) -> T:
        self.calls.append((asyncio.get_running_loop().time(), args, dict(kwargs)))
        outcome = await timed_call(self.behaviour(*args, **kwargs), catch=BaseException)
        self.outcomes.append(outcome)
        if outcome.error is not None:
            raise outcome.error
        value: T = outcome.value
        return value

    @property
    def started(self) -> list[float]:
        """The loop times of the calls, in order."""
        return [time for time, _, _ in self.calls]


async def cancelled_at(call: Callable[[], Awaitable[Any]], at: float) -> Outcome:
    """Start ``call()`` as a task, cancel it when the loop's clock reads ``at`` (if it has not ended
    by then), and record how it ended: :attr:`Outcome.cancelled` when the cancellation came through."""
    loop = asyncio.get_running_loop()
    outcome = Outcome(loop.time())
    task = asyncio.ensure_future(call())
    await asyncio.wait([task], timeout=max(0.0, at - loop.time()))
    task.cancel()
    try:
        outcome.value = await task
    except BaseException as error:  # noqa: BLE001  (a cancellation is what is observed)
        outcome.error = error
    outcome.ended = loop.time()
    return outcome


def cancellation_instants(run: VirtualRun[Any], *, after: float = 0.0) -> list[float]:
    """The instants at which to cancel a call in a sweep: every distinct time after ``after`` at which
    ``run`` emitted an event, and the midpoint before each, in order (a cancellation at each of the
    call's waits, on the virtual clock)."""
    times = sorted({event.time for event in run.events if event.time is not None and event.time > after})
    instants: list[float] = []
    previous = after
    for time in times:
        instants += [(previous + time) / 2, time]
        previous = time
    return instants


def sweep_instants(run: VirtualRun[Any], *, start: float = 0.0, until: float | None = None) -> list[float]:
    """Where to cancel a call, started at ``start``, whose uncancelled run is ``run``: as it starts,
    then in the middle of each of its waits (between the instants at which ``run`` emitted events,
    the last wait included), before ``until`` (by default, when the run ended; a run's clock starts
    at 0). Never at an instant something happened: a cancellation there ties with the call's own
    wake-up, and which comes first is the loop's choice (Python 3.11's ``asyncio.wait_for`` loses a
    cancellation that comes in the instant its awaitable completes)."""
    end = run.elapsed if until is None else until
    happened = [at for at in cancellation_instants(run, after=start)[1::2] if at < end]
    middles = [at for at in cancellation_instants(run, after=start)[::2] if at < end]
    last = max([start, *happened])
    return [start, *middles, *([(last + end) / 2] if end > last else [])]


@dataclass(frozen=True)
class Swept:
    """One run of a cancellation sweep: the call cancelled at ``at``; the run's value is its Outcome."""

    at: float
    run: VirtualRun[Outcome]

    @property
    def outcome(self) -> Outcome:
        return self.run.unwrap()


UNCANCELLED = float("inf")  # the ``at`` of a sweep's first run: never cancelled


def cancellation_sweep(
    chain: Chain,
    what: str,
    scenario: Callable[[float], VirtualRun[Outcome]],
    *,
    instants: Callable[[VirtualRun[Outcome]], list[float]] = sweep_instants,
    hang_hint: str | None = None,
) -> list[Swept]:
    """``scenario(at)`` runs the call, cancels it when the clock reads ``at`` (with :func:`cancelled_at`),
    and returns the run, whose value is the call's :class:`Outcome`. The sweep runs it once uncancelled
    (``at`` = :data:`UNCANCELLED`), then once at each of ``instants(that run)``; every run must end (fails
    ``chain`` naming the instant). The cancelled runs, in order: give them to the chapter's properties,
    :func:`ends_cancelled_at_each_wait` first."""
    whole = scenario(UNCANCELLED)
    chain.require_finished(whole, f"{what} (not cancelled)", hang_hint=hang_hint)
    swept = []
    for at in instants(whole):
        run = scenario(at)
        if run.outcome != "returned":  # a run that returned passes silently: one ✓ line per sweep
            chain.require_finished(
                run,
                f"{what}, cancelled at t={at:g}",
                hang_hint="a cancelled call must end: let CancelledError propagate instead of going on",
            )
        swept.append(Swept(at, run))
    return swept


def ends_cancelled_at_each_wait(chain: Chain, what: str, swept: list[Swept], *, hint: str) -> None:
    """The property every sweep checks first: cancelled at any of its waits, the call ends with
    CancelledError (it propagates; no value, no other error)."""
    wrong = [one for one in swept if not one.outcome.cancelled]
    chain.require(
        not wrong,
        f"{what}, cancelled at any of its waits, ends cancelled (CancelledError propagates)",
        observed=lambda: (
            f"{what}, cancelled at t={wrong[0].at:g}, {wrong[0].outcome.describe()}"
            + (f" (and likewise at {len(wrong) - 1} more instant(s))" if len(wrong) > 1 else "")
        ),
        hint=hint,
    )


def alone_on_the_clock(
    call: Callable[[], Awaitable[Any]], *, deadline: float, wall_limit: float = 10.0
) -> Callable[[float], VirtualRun[Outcome]]:
    """A sweep's scenario for ``call()`` alone on the virtual clock from t=0: each run cancels it at
    ``at`` (:func:`cancelled_at`), its value the call's :class:`Outcome`."""
    return lambda at: run_virtual(functools.partial(cancelled_at, call, at), deadline=deadline, wall_limit=wall_limit)


def leaves_no_task_at_any_wait(
    chain: Chain, what: str, swept: list[Swept], *, hint: str, prop: str | None = None
) -> None:
    """A sweep's property: cancelled at any of its waits, the call leaves no task running (``prop``, by
    default "a cancelled ``what`` leaves no task running"); the first instant that did is named."""
    left = next((one for one in swept if one.run.leftover), None)
    chain.require(
        left is None,
        prop or f"a cancelled {what} leaves no task running",
        observed=lambda: (
            f"{what} was cancelled at t={left.at:g} s; then " + "; ".join(task.describe() for task in left.run.leftover)
            if left is not None
            else ""
        ),
        hint=hint,
    )
