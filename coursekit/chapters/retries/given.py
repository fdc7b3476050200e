"""What chapter 6 (retry and backoff) gives learners: the retry policy type and scripted calls.

:class:`RetryPolicy` says how to retry; the learner's ``retry(call, policy)`` follows it:

- ``attempts``: the most calls in all, the first one included (``attempts=1``: no retry);
- ``delays``: a function returning a fresh iterator of the waits before each retry
  (the first value is the wait after the first failed call);
- ``deadline``: seconds from the first call after which no wait may end (None: none);
- ``retryable(outcome)``: is this outcome, a value returned or an exception raised,
  worth another call?
- ``retry_after(outcome)``: the seconds the server asked for (``Retry-After``), or None.

:class:`ScriptedCall` stands in for an upstream on the loop's clock: each call takes
``latency`` seconds, then returns or raises the next outcome of its script, and is
recorded (``calls``: the times calls started) and emitted as ``retry.attempt`` events.
:func:`transient_or_busy` and :func:`retry_after_seconds` are small classifiers for the
checks' scripts and the service's default answers (exercise 2 writes the full ones).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from coursekit.events import Kind, emit


class Transient(Exception):
    """A failure worth retrying (a dropped connection, say)."""


class Permanent(Exception):
    """A failure that another call cannot fix (a bug, a bad request)."""


def transient_or_busy(outcome: Any) -> bool:
    """Retryable: a :class:`Transient` error, or a response with status 429 or 5xx."""
    if isinstance(outcome, httpx.Response):
        return outcome.status_code == 429 or outcome.status_code >= 500
    return isinstance(outcome, Transient)


def retry_after_seconds(outcome: Any) -> float | None:
    """The ``Retry-After`` of a response when it is a whole number of seconds; else None."""
    if isinstance(outcome, httpx.Response):
        value = outcome.headers.get("retry-after", "").strip()
        if value.isdigit():
            return float(value)
    return None


def no_retry_after(outcome: Any) -> None:
    """For policies that ignore ``Retry-After``."""
    return None


def delays_of(values: Iterable[float]) -> Callable[[], Iterator[float]]:
    """A ``delays`` factory that yields ``values`` each time it is called."""
    fixed = tuple(values)
    return lambda: iter(fixed)


@dataclass(frozen=True)
class RetryPolicy:
    """How to retry (see the module's docstring)."""

    attempts: int
    delays: Callable[[], Iterator[float]]
    deadline: float | None = None
    retryable: Callable[[Any], bool] = transient_or_busy
    retry_after: Callable[[Any], float | None] = no_retry_after

    def __repr__(self) -> str:
        first = list(_take(self.delays(), 4))
        shown = ", ".join(f"{d:g}" for d in first) + (", ..." if len(first) == 4 else "")
        deadline = "" if self.deadline is None else f", deadline={self.deadline:g}"
        return f"RetryPolicy(attempts={self.attempts}, delays=[{shown}]{deadline})"


def _take(values: Iterator[float], n: int) -> Iterator[float]:
    for _, value in zip(range(n), values, strict=False):
        yield value


@dataclass
class ScriptedCall:
    """An async callable of no arguments that plays ``script``, one outcome per call.

    An outcome that is an exception is raised, anything else returned; past the end of
    the script, the last outcome repeats."""

    script: Sequence[Any]
    latency: float = 0.0
    name: str = "call"
    calls: list[float] = field(default_factory=list)

    def __repr__(self) -> str:
        runs = [(text, len(list(group))) for text, group in itertools.groupby(map(_describe, self.script))]
        return f"{self.name}[{', '.join(text if n == 1 else f'{text} x{n}' for text, n in runs)}]"

    async def __call__(self) -> Any:
        loop = asyncio.get_running_loop()
        number = len(self.calls)
        self.calls.append(loop.time())
        emit(Kind.RETRY_ATTEMPT, client=self.name, attempt=number + 1)
        await asyncio.sleep(self.latency)
        outcome = self.script[min(number, len(self.script) - 1)]
        emit(Kind.RETRY_OUTCOME, client=self.name, attempt=number + 1, outcome=_describe(outcome))
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def _describe(outcome: Any) -> str:
    if isinstance(outcome, BaseException):
        return type(outcome).__name__
    if isinstance(outcome, httpx.Response):
        after = outcome.headers.get("retry-after")
        return str(outcome.status_code) + (f" (Retry-After: {after})" if after else "")
    return repr(outcome)


class RetryBudget:
    """Retries as a share of calls, shared by every call of a client (as gRPC's and Finagle's budgets).

    Each call deposits ``ratio`` of a token (:meth:`record_call`), up to ``limit`` tokens; each
    retry withdraws one (:meth:`try_retry`, False when there is none left). It starts full, so a
    client may retry freely until failures outnumber ``ratio`` of its calls."""

    def __init__(self, ratio: float = 0.1, limit: float = 10.0) -> None:
        if ratio < 0 or limit < 0:
            raise ValueError(f"need ratio >= 0 and limit >= 0, got {ratio}, {limit}")
        self.ratio, self.limit, self.tokens = ratio, limit, limit
        self.refused = 0

    def __repr__(self) -> str:
        return f"RetryBudget(ratio={self.ratio:g}, limit={self.limit:g})"

    def record_call(self) -> None:
        self.tokens = min(self.limit, self.tokens + self.ratio)

    def try_retry(self) -> bool:
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.refused += 1
        return False
