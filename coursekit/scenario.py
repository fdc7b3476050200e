"""The scenario kit the chapters' checks, probes and picture runs share: make the learner's
object, run a scenario on the virtual clock, wait for an instant. One copy for every chapter.

Every failure goes through the check's :class:`~coursekit.checks.Chain`, so it names the
property, what was observed and a hint, like any other.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from coursekit.checks import Chain, describe_error
from coursekit.virtual_time import VirtualRun, run_virtual

T = TypeVar("T")
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
