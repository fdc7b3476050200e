"""Checks that tell a learner which property failed, what was seen, and what to try.

A check is a chain of properties tested in order (defined -> runs -> terminates
-> correct -> respects limits). Each property that holds prints one ``✓`` line;
the first that fails raises :class:`CheckFailed` and the chain stops there, so
one mistake gives one message::

    chain = Chain("consumer")
    chain.require(inspect.iscoroutinefunction(consumer), "consumer is an async function",
                  observed=f"consumer is {consumer!r}", hint="define it with `async def`")

Everything printed is deterministic, so notebooks that run checks compare
strictly under nbval.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from coursekit.virtual_time import VirtualRun


class CheckFailed(AssertionError):
    """A property did not hold. ``str()`` is the learner-facing message."""

    def __init__(self, subject: str, prop: str, observed: str, hint: str) -> None:
        self.subject, self.prop, self.observed, self.hint = subject, prop, observed, hint
        super().__init__(f"{subject}: {prop}: FAILED\n  observed: {observed}\n  hint: {hint}")

    def __str__(self) -> str:
        return str(self.args[0])


class Chain:
    """An ordered list of properties of ``subject``; stops at the first that fails."""

    def __init__(self, subject: str) -> None:
        self.subject = subject

    def require(self, holds: bool, prop: str, *, observed: str | Callable[[], str], hint: str) -> None:
        """Print ``✓ prop`` if it holds; otherwise raise CheckFailed.

        ``observed`` may be a function, so an expensive description is only built on failure."""
        if not holds:
            seen = observed() if callable(observed) else observed
            raise CheckFailed(self.subject, prop, seen, hint)
        print(f"✓ {prop}")

    def require_async_function(self, candidate: Any, name: str) -> None:
        """The learner defined ``name`` with ``async def``."""
        self.require(
            inspect.iscoroutinefunction(candidate), f"{name} is defined with `async def`",
            observed=f"{name} is {type(candidate).__name__} {candidate!r}",
            hint=f"run the cell that defines {name}; it must start with `async def {name}(`",
        )

    def require_finished(self, run: VirtualRun[Any], what: str) -> None:
        """The run returned (no hang, no block, no exception)."""
        self.require(run.outcome != "blocked", f"{what} never blocks the event loop",
                     observed=run.diagnosis,
                     hint="a blocking call (time.sleep, a loop without await) freezes every task")
        self.require(run.outcome != "hung", f"{what} finishes",
                     observed=lambda: run.diagnosis,
                     hint="look at what each task above was waiting for: who should have woken it?")
        self.require(run.outcome == "returned", f"{what} returns without raising",
                     observed=lambda: run.diagnosis,
                     hint="read the exception above; run your code on a small example to see it")

    def require_no_leftover_tasks(self, run: VirtualRun[Any], what: str) -> None:
        """Nothing the run started is still pending after it returned."""
        self.require(not run.leftover, f"{what} leaves no task running when it returns",
                     observed=lambda: "; ".join(task.describe() for task in run.leftover),
                     hint="await every task you create (a TaskGroup does it for you) before returning")
