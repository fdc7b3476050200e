"""An ASGI middleware that answers 429 Too Many Requests, with ``Retry-After``, for a per-client limiter.

Wrap any ASGI application, for example the course's service::

    service = Service(seed=7)
    guarded = RateLimitMiddleware(service, PerClientLimiter(rate=2.0, capacity=4, idle_after=10.0))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=guarded), base_url=BASE_URL) as client:
        ...

For every HTTP request, the middleware asks ``limiter.try_acquire(client_id)`` (it must
answer at once with a :class:`~coursekit.rate_limits.Decision`; it never waits). Admitted,
the request goes on to the application. Refused, the middleware answers 429 itself,
without calling the application, with ``Retry-After`` in whole seconds, rounded up
(HTTP allows no fractions), at least 1. The client id is the ``X-Client-Id`` header if the
request has one, else the client's address (``scope["client"]``). Other scopes
(``lifespan``, websockets) pass through untouched.

Every refusal is emitted as a ``middleware.limited`` event (``client``, ``retry_after``),
every admission as ``middleware.admitted`` (``client``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

from starlette.types import ASGIApp, Receive, Scope, Send

from coursekit.events import Kind, emit
from coursekit.rate_limits import Decision


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
    """``app`` behind ``limiter``: a refused request gets 429 and ``Retry-After`` without reaching ``app``."""

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
