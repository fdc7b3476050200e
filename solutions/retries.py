"""Chapter 6 reference solution: backoff delays, what to retry, and a retry loop with a deadline.

Times are the running loop's clock (``loop.time()``), virtual seconds under
:func:`coursekit.virtual_time.run_virtual`.

:func:`backoff_delays` — an endless generator of the waits before retry ``n = 0, 1, 2, ...``
(``0 < base <= cap``); randomness comes only from the ``rng`` passed in, so a seed gives
the same delays every time. With ``v = min(cap, base * 2**n)``:

- ``"constant"``: ``base``;
- ``"exponential"``: ``v``;
- ``"full"`` (full jitter): uniform in ``[0, v]``;
- ``"equal"`` (equal jitter): uniform in ``[v/2, v]``;
- ``"decorrelated"``: uniform in ``[base, 3 * previous]`` and then at most ``cap``
  (``previous`` is the delay before, ``base`` for the first), so in
  ``[base, min(cap, 3 * previous)]``.

:func:`is_retryable` — is an outcome of an httpx call (a response, or an exception) worth
another call? Yes for 429 and every 5xx, for timeouts, network errors (connect, read,
write, close) and a broken protocol exchange, and for ``HTTPStatusError`` of such a
status; no for any other response (2xx, 3xx, 4xx but 429), for an URL or protocol the
client cannot use, and for every other exception (programming errors).

:func:`retry_after` — the seconds a response's ``Retry-After`` header asks for: a number
of seconds, or an HTTP date read against the response's own ``Date`` (the wall clock if
it has none), never below 0; None if there is no such header or it cannot be read.

:func:`retry` — call ``call()`` until an outcome is not retryable, and return it (or raise
it); at most ``policy.attempts`` calls. Between calls, wait the next of
``policy.delays()``, or what ``policy.retry_after(outcome)`` says when it says something.
Give up at once when attempts or delays run out, or when the wait would end more than
``policy.deadline`` seconds after the first call: return the last value, or raise the last
exception (the same object). Cancellation is never retried.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Literal, TypeVar

import httpx

from coursekit.chapters.retries.given import RetryPolicy

T = TypeVar("T")
Strategy = Literal["constant", "exponential", "full", "equal", "decorrelated"]


# ----------------------------------------------------------------- exercise 1


def backoff_delays(strategy: Strategy, *, base: float, cap: float, rng: random.Random) -> Iterator[float]:
    """The waits before retries 0, 1, 2, ... for ``strategy``, for ever."""
    previous = base
    n = 0
    while True:
        ceiling = min(cap, base * 2**n)
        if strategy == "constant":
            yield base
        elif strategy == "exponential":
            yield ceiling
        elif strategy == "full":
            yield rng.uniform(0, ceiling)
        elif strategy == "equal":
            yield ceiling / 2 + rng.uniform(0, ceiling / 2)
        elif strategy == "decorrelated":
            previous = min(cap, rng.uniform(base, 3 * previous))
            yield previous
        else:
            raise ValueError(f"unknown strategy {strategy!r}")
        n += 1


# ----------------------------------------------------------------- exercise 2


def is_retryable(outcome: httpx.Response | BaseException) -> bool:
    """Is another call worth it after this response or exception?"""
    if isinstance(outcome, httpx.HTTPStatusError):
        outcome = outcome.response
    if isinstance(outcome, httpx.Response):
        return outcome.status_code == 429 or 500 <= outcome.status_code <= 599
    return isinstance(outcome, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the response's ``Retry-After`` asks to wait; None without a readable one."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    date = response.headers.get("date")
    try:
        now = email.utils.parsedate_to_datetime(date).timestamp() if date else time.time()
    except (TypeError, ValueError):
        now = time.time()
    return max(0.0, when - now)


# ----------------------------------------------------------------- exercise 3


async def retry(call: Callable[[], Awaitable[T]], policy: RetryPolicy) -> T:
    """``await call()`` until its outcome is not retryable, within ``policy``."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    delays = policy.delays()
    attempt = 0
    while True:
        attempt += 1
        try:
            outcome: Any = await call()
        except Exception as error:
            outcome = error
        if not policy.retryable(outcome) or attempt >= policy.attempts:
            break
        wait = next(delays, None)
        asked = policy.retry_after(outcome)
        if asked is not None:
            wait = asked
        if wait is None:
            break
        if policy.deadline is not None and loop.time() + wait > started + policy.deadline:
            break
        await asyncio.sleep(wait)
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
