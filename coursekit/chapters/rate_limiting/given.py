"""What chapter 8's rate limiters are given: a decision type, arrival scripts, and a timed request.

- :class:`Decision`: the answer of a limiter that never waits (``PerClientLimiter.try_acquire``):
  ``admitted``, and when not, ``retry_after``, the seconds until the same request would be
  admitted (what a 429 answer's ``Retry-After`` header says).
- :func:`timed_acquire`: awaits one limiter call and emits what happened as events
  (``limiter.request`` when asked, then ``limiter.admitted``, ``limiter.refused``,
  ``limiter.failed`` or ``limiter.cancelled``), so that checks and pictures can read
  *when* each request got through without the limiter emitting anything itself.
- :class:`RateLimitMiddleware`: an ASGI middleware answering 429 with ``Retry-After`` for a
  limiter that never waits (the live demo's server side).
- :func:`bursty_arrivals`: a seeded script of arrival times, bursts separated by quiet spells,
  the same on every run: the arrivals of the chapter's side-by-side pictures.

Times are the running loop's clock (virtual seconds under :func:`coursekit.run_virtual`).
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.types import ASGIApp, Receive, Scope, Send

from coursekit.events import Kind, emit


@dataclass(frozen=True)
class Decision:
    """A non-waiting limiter's answer: admitted, or not and for how many more seconds."""

    admitted: bool
    retry_after: float = 0.0  # seconds until the same request would be admitted (0.0 when admitted)


@dataclass
class Timed:
    """One request through a limiter: its number, how much it asked for, when it asked, and when it was
    let through (``admitted``), or what stopped it (``error``, or ``cancelled``)."""

    number: int
    amount: int
    asked: float
    admitted: float | None = None
    ended: float | None = None  # when the call returned or raised (None: cancelled)
    value: Any = None
    error: BaseException | None = None
    cancelled: bool = False

    @property
    def waited(self) -> float | None:
        return None if self.admitted is None else self.admitted - self.asked


async def timed_acquire(
    call: Callable[[], Awaitable[Any]], number: int, amount: int = 1, *, client: str | None = None
) -> Timed:
    """``await call()`` (e.g. ``lambda: bucket.acquire(2)``) and record when it returned.

    Emits ``limiter.request`` at once; then ``limiter.admitted`` when ``call()`` returns (a
    :class:`Decision` that is not admitted counts as ``limiter.refused``, with its
    ``retry_after``; ``False`` too), ``limiter.failed`` when it raises, ``limiter.cancelled``
    when this task is cancelled (the cancellation is then re-raised). Every event carries
    ``number``, ``amount`` and ``client``."""
    loop = asyncio.get_running_loop()
    timed = Timed(number, amount, loop.time())
    fields = {"number": number, "amount": amount, "client": client}
    emit(Kind.LIMITER_REQUEST, **fields)
    try:
        value = await call()
    except asyncio.CancelledError:
        timed.cancelled = True
        emit(Kind.LIMITER_CANCELLED, **fields)
        raise
    except Exception as error:  # noqa: BLE001  (reported to whoever reads the Timed)
        timed.error, timed.ended = error, loop.time()
        emit(Kind.LIMITER_FAILED, error=type(error).__name__, **fields)
        return timed
    timed.value, timed.ended = value, loop.time()
    if value is False or (isinstance(value, Decision) and not value.admitted):
        retry_after = value.retry_after if isinstance(value, Decision) else None
        emit(Kind.LIMITER_REFUSED, retry_after=retry_after, **fields)
    else:
        timed.admitted = loop.time()
        emit(Kind.LIMITER_ADMITTED, waited=timed.admitted - timed.asked, **fields)
    return timed


def bursty_arrivals(
    seed: int = 8, *, bursts: int = 5, size: tuple[int, int] = (4, 12), quiet: tuple[float, float] = (1.0, 4.0)
) -> list[float]:
    """Arrival times (seconds from 0): ``bursts`` bursts of ``size`` requests each (drawn), every burst
    spread over half a second, separated by quiet spells of ``quiet`` seconds (drawn). Seeded: the same
    arguments give the same times. Times are multiples of 1/64 s (exact in binary)."""
    rng = random.Random(f"arrivals|{seed}")
    times: list[float] = []
    now = 0.0
    for _ in range(bursts):
        for _ in range(rng.randint(*size)):
            times.append(now + rng.randrange(32) / 64)
        now += 0.5 + rng.randrange(int(quiet[0] * 4), int(quiet[1] * 4) + 1) / 4
    return sorted(times)


class NonWaitingLimiter(Protocol):
    """What the middleware needs of a limiter (the learner's ``PerClientLimiter``)."""

    def try_acquire(self, client_id: str, amount: int = 1) -> Decision: ...


def client_id(scope: Scope) -> str:
    """The ``X-Client-Id`` header, else the client's host, else ``"anonymous"``."""
    for name, value in scope.get("headers", []):
        if name == b"x-client-id":
            return str(value.decode("latin-1"))
    client = scope.get("client")
    return str(client[0]) if client else "anonymous"


class RateLimitMiddleware:
    """``app`` behind ``limiter``: a refused request gets 429 and ``Retry-After`` without reaching ``app``.

    Wrap any ASGI application, for example the course's service::

        service = Service(seed=7)
        guarded = RateLimitMiddleware(service, PerClientLimiter(rate=2.0, capacity=4, idle_after=10.0))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=guarded), base_url=BASE_URL) as client:
            ...

    For every HTTP request, the middleware asks ``limiter.try_acquire(client_id)`` (it must
    answer at once with a :class:`Decision`; it never waits). Admitted,
    the request goes on to the application. Refused, the middleware answers 429 itself,
    without calling the application, with ``Retry-After`` in whole seconds, rounded up
    (HTTP allows no fractions), at least 1. The client id is the ``X-Client-Id`` header if the
    request has one, else the client's address (``scope["client"]``). Other scopes
    (``lifespan``, websockets) pass through untouched.

    Every refusal is emitted as a ``middleware.limited`` event (``client``, ``retry_after``),
    every admission as ``middleware.admitted`` (``client``).
    """

    def __init__(self, app: ASGIApp, limiter: NonWaitingLimiter, *, key: Callable[[Scope], str] = client_id) -> None:
        self.app, self.limiter, self.key = app, limiter, key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = self.key(scope)
        decision = self.limiter.try_acquire(client)
        if decision.admitted:
            emit(Kind.MIDDLEWARE_ADMITTED, client=client)
            await self.app(scope, receive, send)
            return
        seconds = max(1, math.ceil(decision.retry_after))
        emit(Kind.MIDDLEWARE_LIMITED, client=client, retry_after=seconds)
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [(b"retry-after", str(seconds).encode()), (b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": b"too many requests"})
