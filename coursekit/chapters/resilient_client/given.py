"""What chapter 10's resilient HTTP client is given: its settings, its error for a failing answer, and layers.

The client's own logic (which layer wraps which, retries, the bulkhead, the cache,
fallbacks) is the learner's exercise; its collaborators are given, and passed in, so that
checks can pass instrumented ones:

- :class:`ClientPolicy`: the settings (attempt timeout, attempts, backoff delays, overall
  deadline, bulkhead size, cache lifetime);
- :class:`FailedAnswer`: what an attempt raises for a 429 or 5xx answer, inside the
  breaker's call, so that the breaker can count it; it carries the response (and so its
  ``Retry-After``);
- :func:`retry_after_seconds` (from chapter 6's given code): a ``Retry-After`` in seconds;
- :func:`host_of`: the host a URL goes to, relative URLs against the client's base URL;
- a breaker per host: any object with ``await breaker.call(func, *args)`` that raises
  :class:`~coursekit.chapters.circuit_breaker.given.CircuitOpenError` to reject (chapter 7's
  ``CircuitBreaker`` fits). :class:`LoopClockBreaker` is purgatory's breaker on the loop's clock;
- a rate limiter: any object with ``await limiter.acquire()`` (aiolimiter's ``AsyncLimiter``);
- :func:`jittered_delays`: backoff delays with full jitter from tenacity's exponential
  wait, seeded (a learner's chapter 6 ``backoff_delays`` fits too).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import httpx
import purgatory.domain.model as purgatory_model
import tenacity
from purgatory.domain.model import Context, OpenedState

from coursekit.chapters.circuit_breaker.given import BreakerState, CircuitOpenError, UpstreamError
from coursekit.chapters.retries.given import delays_of, retry_after_seconds
from coursekit.events import Kind, emit

__all__ = [
    "Breaker",
    "ClientPolicy",
    "FailedAnswer",
    "Limiter",
    "LoopClockBreaker",
    "breakers_of",
    "delays_of",
    "host_of",
    "is_failed_answer",
    "jittered_delays",
    "retry_after_seconds",
]

T = TypeVar("T")


@dataclass(frozen=True)
class ClientPolicy:
    """How a resilient client behaves (see the chapter's statements for what each setting means).

    - ``attempt_timeout``: seconds one request may take;
    - ``attempts``: the most requests per call, the first included;
    - ``delays``: a function returning a fresh iterator of the waits before each retry;
    - ``deadline``: seconds from the start of a call after which no retry's wait may end
      and no attempt may run (None: none);
    - ``max_in_flight``: the bulkhead, the most calls past it at once;
    - ``cache_ttl``: seconds a 2xx answer is served from the cache (0: no cache)."""

    attempt_timeout: float = 1.0
    attempts: int = 3
    delays: Callable[[], Iterator[float]] = field(default=delays_of((0.5, 1.0, 2.0)))
    deadline: float | None = 10.0
    max_in_flight: int = 10
    cache_ttl: float = 0.0

    def __repr__(self) -> str:
        first = [f"{delay:g}" for _, delay in zip(range(4), self.delays(), strict=False)]
        shown = ", ".join(first) + (", ..." if len(first) == 4 else "")
        deadline = "None" if self.deadline is None else f"{self.deadline:g}"
        return (
            f"ClientPolicy(attempt_timeout={self.attempt_timeout:g}, attempts={self.attempts}, delays=[{shown}], "
            f"deadline={deadline}, max_in_flight={self.max_in_flight}, cache_ttl={self.cache_ttl:g})"
        )


class FailedAnswer(UpstreamError):
    """The service answered 429 or 5xx; ``response`` is that answer."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code, response.request.url.path)
        self.response = response


def is_failed_answer(response: httpx.Response) -> bool:
    """A 429 (too many requests) or a 5xx (server error): worth retrying, and a failure for a breaker."""
    return response.status_code == 429 or response.is_server_error


def host_of(client: httpx.AsyncClient, url: str) -> str:
    """The host ``url`` goes to, a relative URL resolved against ``client.base_url``."""
    return client.base_url.join(url).host


class Breaker(Protocol):
    """What a resilient client needs of a circuit breaker."""

    async def call(self, func: Callable[..., Awaitable[T]], *args: Any) -> T: ...


class Limiter(Protocol):
    """What a resilient client needs of a rate limiter (aiolimiter's ``AsyncLimiter`` is one)."""

    async def acquire(self) -> None: ...


class _LoopClock:
    """Stands in for the ``time`` module inside purgatory while it reads the time."""

    @staticmethod
    def time() -> float:
        return asyncio.get_running_loop().time()


@contextlib.contextmanager
def _on_loop_clock() -> Iterator[None]:
    """purgatory reads ``time.time()``; for the span of one synchronous step it reads the loop's clock.

    No ``await`` happens inside, so no other task can see the swap. The swap is in the module's
    namespace: ``time`` is a global purgatory imported there, not a name it exports."""
    namespace = vars(purgatory_model)
    saved = namespace["time"]
    namespace["time"] = _LoopClock  # only .time() is used
    try:
        yield
    finally:
        namespace["time"] = saved


_STATES = {"closed": BreakerState.CLOSED, "opened": BreakerState.OPEN, "half-opened": BreakerState.HALF_OPEN}


class LoopClockBreaker:
    """purgatory's circuit breaker (``threshold`` failures in a row open it for ``ttl`` seconds), on the loop's clock.

    Every exception of the call counts as a failure; a cancelled call counts as nothing.
    A rejection raises :class:`CircuitOpenError`. Each transition is emitted as a
    ``breaker.state`` event (``name``, ``old``, ``new``), each rejection as ``breaker.rejected``.
    Like purgatory itself, it lets every call through when half open."""

    def __init__(self, name: str, threshold: int = 5, ttl: float = 30.0) -> None:
        self.name = name
        self.context = Context(name, threshold, ttl)
        self.seen = BreakerState.CLOSED

    def __repr__(self) -> str:
        return f"LoopClockBreaker({self.name!r}, threshold={self.context.threshold}, ttl={self.context.ttl:g})"

    @property
    def state(self) -> BreakerState:
        return self.seen

    def _observe(self) -> None:
        now = _STATES[self.context.state]
        if now is not self.seen:
            emit(Kind.BREAKER_STATE, name=self.name, old=self.seen.value, new=now.value)
            self.seen = now

    async def call(self, func: Callable[..., Awaitable[T]], *args: Any) -> T:
        with _on_loop_clock():
            try:
                self.context.handle_new_request()
            except OpenedState:
                emit(Kind.BREAKER_REJECTED, name=self.name)
                raise CircuitOpenError(f"{self.name} is open") from None
            finally:
                self._observe()
        try:
            result = await func(*args)
        except Exception as error:
            with _on_loop_clock():
                self.context.handle_exception(error)
                self._observe()
            raise
        with _on_loop_clock():
            self.context.handle_end_request()
            self._observe()
        return result


def breakers_of(threshold: int, ttl: float) -> Callable[[str], LoopClockBreaker]:
    """A breaker factory: ``factory(host)`` is a new :class:`LoopClockBreaker` named after the host."""
    return lambda host: LoopClockBreaker(host, threshold, ttl)


def jittered_delays(
    base: float = 0.5, cap: float = 8.0, seed: int = 0, count: int = 10
) -> Callable[[], Iterator[float]]:
    """A ``delays`` factory: ``count`` waits, the n-th uniform in [0, min(cap, base * 2**n)] (full jitter).

    The exponential ceiling is tenacity's ``wait_exponential``; the draws come from
    ``random.Random(seed)``, so the same seed gives the same waits, and each call of the
    factory gives a fresh, different sequence."""
    ceiling = tenacity.wait_exponential(multiplier=base, max=cap, exp_base=2)
    rng = random.Random(seed)

    def delays() -> Iterator[float]:
        state = tenacity.RetryCallState(tenacity.Retrying(), None, (), {})
        for attempt in range(1, count + 1):
            state.attempt_number = attempt
            yield rng.uniform(0.0, ceiling(state))

    return delays
