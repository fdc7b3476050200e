"""The course's unreliable upstream: one ASGI application with seeded faults.

Use it in-process, on the virtual clock, through httpx's ASGI transport (graded runs,
pictures)::

    service = Service(seed=7, faults=Faults(error_rate=0.2))
    async with service.client() as client:       # t = 0 of the service's clock is now
        response = await client.get("/items/1")

or served for real on 127.0.0.1 (:mod:`coursekit.service.live`). The same client code
works against both. Resources:

- ``GET /items/{n}``: ``{"item": n}``;
- ``GET /pages/{n}``: an HTML page of a seeded link graph of ``pages`` pages (``/pages/0``
  links, directly or not, to every page), for the crawler of chapter 10;
- ``GET /log``: the server's own record of every request, as JSON (not subject to faults).

Every response carries a ``Date`` header on the service's clock (``epoch`` + seconds since
the start), so a client can read an HTTP-date ``Retry-After`` against it. Every request is
recorded in :attr:`Service.log` and emitted as ``server.request`` / ``server.response``
events (:mod:`coursekit.events`) with its path, status and outcome.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from email.utils import formatdate
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from coursekit.events import Kind, emit
from coursekit.service.faults import Faults, decide

BASE_URL = "http://service.test"
FIXED_EPOCH = 1_767_225_600.0  # 2026-01-01T00:00:00Z: the Date of t = 0 for in-process runs


@dataclass
class Record:
    """One request as the server saw it: when it arrived (service seconds), its path,
    the status sent (None: no answer), the outcome, when it ended (None: never), and the
    client's ``host:port``, which tells the connections apart (None: not known)."""

    time: float
    path: str
    status: int | None = None
    outcome: str = "pending"
    ended: float | None = None
    client: str | None = None


@dataclass
class Service:
    """A seeded unreliable upstream. ``faults`` applies to every path without an entry in
    ``endpoints`` (keys are path prefixes, the longest match wins)."""

    seed: int = 0
    faults: Faults = field(default_factory=Faults)
    endpoints: Mapping[str, Faults] = field(default_factory=dict)
    pages: int = 30
    epoch: float = FIXED_EPOCH
    log: list[Record] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._origin: float | None = None
        self._counts: Counter[str] = Counter()
        self._windows: Counter[tuple[str, int]] = Counter()
        self.links = link_graph(self.seed, self.pages)
        self.app = Starlette(
            routes=[
                Route("/items/{n:int}", self._item),
                Route("/pages/{n:int}", self._page),
                Route("/log", self._log, name="log"),
            ],
            lifespan=self._lifespan,
        )

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.start()  # served for real: t = 0 when the server starts
        yield

    # -- the clock ---------------------------------------------------------------------------

    def start(self) -> None:
        """Make now t = 0 of the service's clock (the running loop's clock)."""
        self._origin = asyncio.get_running_loop().time()

    def now(self) -> float:
        """Seconds since :meth:`start` (started by the first request if nobody did)."""
        if self._origin is None:
            self.start()
        assert self._origin is not None
        return asyncio.get_running_loop().time() - self._origin

    def client(self, **options: Any) -> httpx.AsyncClient:
        """An in-process client (no network); starts the service's clock now."""
        self.start()
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self), base_url=BASE_URL, **options)

    # -- ASGI ----------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/log":
            await self.app(scope, receive, send)
            return
        await self._with_faults(scope, receive, send)

    def faults_for(self, path: str) -> tuple[str, Faults]:
        """The longest ``endpoints`` prefix of ``path`` and its faults; ``("", faults)`` if none."""
        matches = [prefix for prefix in self.endpoints if path.startswith(prefix)]
        if not matches:
            return "", self.faults
        prefix = max(matches, key=len)
        return prefix, self.endpoints[prefix]

    async def _with_faults(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, now = scope["path"], self.now()
        endpoint, faults = self.faults_for(path)
        self._counts[path] += 1
        window = (endpoint, int(now // faults.rate_limit.window) if faults.rate_limit else 0)
        self._windows[window] += 1  # a rate limit counts the requests of its endpoint (prefix)
        rng = random.Random(f"{self.seed}|{path}|{self._counts[path]}")
        decision = decide(faults, rng, now, self._windows[window])
        peer = scope.get("client")
        record = Record(now, path, client=f"{peer[0]}:{peer[1]}" if peer else None)
        self.log.append(record)
        emit(Kind.SERVER_REQUEST, path=path)
        try:
            if decision.outcome == "hang":  # no answer, ever: wait until the client goes away
                while (await receive())["type"] != "http.disconnect":
                    pass
                record.outcome = "cancelled"
                return
            await asyncio.sleep(decision.delay)
            if decision.outcome == "ok":
                await self.app(scope, receive, self._recording(send, record))
            else:
                await self._fault_response(decision.status or 503, decision.retry_after, faults)(scope, receive, send)
                record.status = decision.status
            record.outcome = decision.outcome
        except asyncio.CancelledError:
            record.outcome = "cancelled"  # the client gave up (a timeout) or went away
            raise
        finally:
            record.ended = self.now()
            emit(Kind.SERVER_RESPONSE, path=path, status=record.status, outcome=record.outcome)

    def _recording(self, send: Send, record: Record) -> Send:
        async def send_and_record(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
                message.setdefault("headers", []).append((b"date", self._date(0.0).encode()))
            await send(message)

        return send_and_record

    def _fault_response(self, status: int, retry_after: float | None, faults: Faults) -> Response:
        headers = {"date": self._date(0.0)}
        if retry_after is not None:
            seconds = max(1, math.ceil(retry_after))  # whole seconds, rounded up
            limit = faults.rate_limit
            use_date = limit is not None and limit.retry_after == "http-date"
            headers["retry-after"] = self._date(seconds) if use_date else str(seconds)
        text = {429: "too many requests", 500: "internal error", 503: "service unavailable"}[status]
        return Response(text, status_code=status, headers=headers, media_type="text/plain")

    def _date(self, later: float) -> str:
        """The HTTP date ``later`` seconds from now on the service's clock."""
        return formatdate(self.epoch + self.now() + later, usegmt=True)

    # -- resources ------------------------------------------------------------------------------

    async def _item(self, request: Request) -> Response:
        return JSONResponse({"item": request.path_params["n"]})

    async def _page(self, request: Request) -> Response:
        n = request.path_params["n"]
        if n not in self.links:
            return HTMLResponse("<html><body><h1>not found</h1></body></html>", status_code=404)
        anchors = "".join(f'<li><a href="/pages/{target}">page {target}</a></li>' for target in self.links[n])
        return HTMLResponse(f"<html><body><h1>page {n}</h1><ul>{anchors}</ul></body></html>")

    async def _log(self, request: Request) -> Response:
        return JSONResponse([asdict(record) for record in self.log])


def link_graph(seed: int, pages: int) -> dict[int, list[int]]:
    """A seeded graph: page ``n > 0`` is linked from some page before it (so ``/pages/0``
    reaches every page), and each page links to one to three others at random."""
    rng = random.Random(f"{seed}|links")
    links: dict[int, list[int]] = {n: [] for n in range(pages)}
    for n in range(1, pages):
        links[rng.randrange(n)].append(n)
    for n in range(pages):
        for target in rng.sample(range(pages), k=min(pages, rng.randint(1, 3))):
            if target != n and target not in links[n]:
                links[n].append(target)
    return {n: sorted(targets) for n, targets in links.items()}
