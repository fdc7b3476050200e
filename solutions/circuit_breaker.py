"""Chapter 7 reference solution: a circuit breaker, a decorator around it, an HTTP call guarded by it.

Times are the running loop's clock (``asyncio.get_running_loop().time()``), virtual
seconds under :func:`coursekit.virtual_time.run_virtual`; never ``time.time()``.

:class:`CircuitBreaker` — ``await breaker.call(func, *args, **kwargs)`` awaits
``func(*args, **kwargs)`` and returns its result or raises its error, unless the breaker
rejects the call without making it, with :class:`~coursekit.chapters.circuit_breaker.given.CircuitOpenError`.

- **Closed**: every call is made. An exception that is an instance of ``counted`` is a
  failure; a success resets the count of consecutive failures to 0. The
  ``failure_threshold``-th consecutive failure is recorded (its caller gets its error) and
  opens the breaker at that instant: the *next* call is rejected. An exception that is not
  counted propagates and counts as a success (the service answered), as in pybreaker.
- **Open**: calls are rejected until ``recovery_timeout`` seconds after the breaker opened.
  At ``opened_at + recovery_timeout`` exactly, and after, the next call moves it to half
  open and is made (``>=``, as in pybreaker and gobreaker); a call before is rejected.
- **Half open**: at most ``half_open_max_calls`` trial calls run at once; a call arriving
  while they all run is rejected at once. A counted failure of a trial reopens the breaker
  with a fresh timer (``opened_at`` is now). When ``half_open_max_calls`` trials have
  succeeded, it closes, and every count starts again from 0. The result of a call made in
  an earlier period (a trial that ends after its period was over) changes nothing. A
  cancelled trial frees its slot and counts as neither.
- Every change of state goes through :meth:`CircuitBreaker._move_to`, which emits a
  ``breaker.state`` event (``name``, ``old``, ``new``).

:func:`protected` — ``@protected(breaker)`` turns an async function into one whose every
call goes through ``breaker.call``, with the same arguments, name and docstring.

:func:`fetch_item` — ``GET /items/{n}`` through ``breaker.call``. A 5xx answer raises
:class:`~coursekit.chapters.circuit_breaker.given.UpstreamError` *inside* the call, so the breaker can count
it; a 4xx answer raises ``httpx.HTTPStatusError``; a 2xx answer gives the JSON body.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

import httpx

from coursekit.chapters.circuit_breaker.given import BreakerState, CircuitOpenError, UpstreamError
from coursekit.events import emit

T = TypeVar("T")
P = ParamSpec("P")


# ----------------------------------------------------------------- exercise 1


class CircuitBreaker:
    """Stops calling a service that keeps failing, and tries it again after a while.

    ::

        breaker = CircuitBreaker(failure_threshold=5, recovery_timeout=30.0, half_open_max_calls=2)
        item = await breaker.call(client.get, "/items/1")   # may raise CircuitOpenError
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        recovery_timeout: float = 30.0,
        half_open_max_calls: int = 1,
        counted: tuple[type[BaseException], ...] = (Exception,),
        name: str = "breaker",
    ) -> None:
        self.failure_threshold = failure_threshold  # consecutive failures that open it
        self.recovery_timeout = recovery_timeout  # seconds open before a trial call
        self.half_open_max_calls = half_open_max_calls  # trials at once; successes that close it
        self.counted = counted  # the exception types that count as failures
        self.name = name
        self.state = BreakerState.CLOSED
        self.failures = 0  # consecutive failures while closed
        self.successes = 0  # successful trials in this half-open period
        self.trials = 0  # trial calls running now
        self.opened_at: float | None = None  # when it last opened, on the loop's clock

    def _move_to(self, state: BreakerState) -> None:
        """Change state, and emit the transition as a ``breaker.state`` event."""
        emit("breaker.state", name=self.name, old=self.state.value, new=state.value)
        self.state = state

    async def call(self, func: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        """``await func(*args, **kwargs)`` if the breaker lets the call through; else CircuitOpenError."""
        ### BEGIN SOLUTION
        loop = asyncio.get_running_loop()
        if self.state is BreakerState.OPEN:
            assert self.opened_at is not None
            if loop.time() < self.opened_at + self.recovery_timeout:
                raise CircuitOpenError(f"{self.name} is open")
            self._move_to(BreakerState.HALF_OPEN)
            self.successes = self.trials = 0
        trial = self.state is BreakerState.HALF_OPEN
        if trial:
            if self.trials >= self.half_open_max_calls:
                raise CircuitOpenError(f"{self.name} is half open and its trial calls are all taken")
            self.trials += 1
        period = self.opened_at  # a trial counts only in the half-open period that admitted it
        try:
            result = await func(*args, **kwargs)
        except BaseException as error:
            current = trial and self.state is BreakerState.HALF_OPEN and self.opened_at == period
            if current:
                self.trials -= 1
            if isinstance(error, self.counted):
                if current:
                    self.opened_at = loop.time()
                    self._move_to(BreakerState.OPEN)
                elif not trial and self.state is BreakerState.CLOSED:
                    self.failures += 1
                    if self.failures >= self.failure_threshold:
                        self.opened_at = loop.time()
                        self._move_to(BreakerState.OPEN)
            elif isinstance(error, Exception):
                self._succeeded(trial=current)
            raise
        if trial:
            if self.state is BreakerState.HALF_OPEN and self.opened_at == period:
                self.trials -= 1
                self._succeeded(trial=True)
        else:
            self._succeeded(trial=False)
        return result
        ### END SOLUTION

    def _succeeded(self, *, trial: bool) -> None:
        """Record a success: a trial of this half-open period, or a call made while closed."""
        ### BEGIN SOLUTION
        if trial:
            self.successes += 1
            if self.successes >= self.half_open_max_calls:
                self._move_to(BreakerState.CLOSED)
                self.failures = self.successes = self.trials = 0
        elif self.state is BreakerState.CLOSED:
            self.failures = 0
        ### END SOLUTION


# ----------------------------------------------------------------- exercise 2


def protected(breaker: CircuitBreaker) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """A decorator: every call of the decorated async function goes through ``breaker.call``."""

    def decorate(func: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(func)
        async def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
            return await breaker.call(func, *args, **kwargs)

        return guarded

    return decorate


# ----------------------------------------------------------------- exercise 3


async def fetch_item(client: httpx.AsyncClient, breaker: CircuitBreaker, n: int) -> Any:
    """``GET /items/{n}`` through the breaker: the JSON body; a 5xx answer is an UpstreamError the breaker counts."""

    async def get() -> Any:
        response = await client.get(f"/items/{n}")
        if response.is_server_error:
            raise UpstreamError(response.status_code, f"/items/{n}")
        response.raise_for_status()
        return response.json()

    return await breaker.call(get)
