"""Connections to the course's HTTP service, in-process: what a client's connection pool saves.

``httpx.ASGITransport`` hands each request straight to the application: no socket, no
connection, nothing to reuse, so "one client for everything" and "a new client per
request" cost the same in-process. Over a network they do not: a client owns a **pool**
of connections, and only a request that finds no idle connection in its pool pays for a
new one (a TCP handshake, and for ``https`` a TLS one). :class:`Connections` puts a model
of httpx's pool in front of the service, on the running loop's clock (virtual under
:func:`coursekit.virtual_time.run_virtual`)::

    connections = Connections(service, connect_time=0.1)
    async with connections.client(limits=httpx.Limits(max_connections=10)) as client:
        await client.get("/items/1")      # opens connection 1: 0.1 s, then the answer
        await client.get("/items/2")      # reuses it (keep-alive): the answer only
    connections.opened                    # 1

The model follows httpx (httpcore) for HTTP/1.1:

- a connection carries one request at a time and goes back to its client's pool when
  the response is closed (``client.get`` reads and closes it); the next request of that
  client reuses an idle connection, or opens one (``connect_time`` seconds);
- ``httpx.Limits``: at most ``max_connections`` open at once per client (a request
  waits for one, at most the pool timeout: ``httpx.PoolTimeout``), at most
  ``max_keepalive_connections`` kept idle, an idle connection closed after
  ``keepalive_expiry`` seconds;
- the request's timeouts (``httpx.Timeout``): ``connect`` (``httpx.ConnectTimeout``) and
  ``read`` (``httpx.ReadTimeout``, e.g. when the service hangs);
- a request that does not end with a response (a timeout, a cancellation, an error)
  closes its connection: it is not reused;
- closing the client closes its idle connections.

Each connection has its own client port, which the service records for each request
(:attr:`coursekit.service.app.Record.client`), exactly as it does when served live by
uvicorn, where the ports are the real ones: so ``len({r.client for r in service.log})``
counts connections in both worlds.

:meth:`Connections.intercept` makes ``httpx.AsyncClient()`` created without a transport
(as document 000 does, once per request) a client of the service, with a pool of its own.

Counts: :attr:`Connections.clients`, :attr:`~Connections.opened`,
:attr:`~Connections.requests`. Events: ``http.client`` (a client's pool is made),
``http.connect`` (a connection opened: ``number``, ``client``, ``port``),
``request.start`` / ``request.end`` and ``work.start`` / ``work.end`` (``item`` = the
path, ``outcome`` ``done``, ``failed`` for a 4xx/5xx answer or an error, ``cancelled``)
around each request, waiting for a connection included, so the course's timelines
(:mod:`coursekit.plots`) draw requests.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from unittest import mock

import httpx

from coursekit.events import Kind, emit
from coursekit.service.app import BASE_URL, Service

DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)  # httpx.AsyncClient's own
FIRST_PORT = 40_001  # client ports of in-process connections: 40001, 40002, ... in the order opened


class Connections:
    """Every connection that clients open to ``service``, each costing ``connect_time`` seconds."""

    def __init__(self, service: Service, *, connect_time: float = 0.1) -> None:
        if connect_time < 0:
            raise ValueError(f"connect_time must be >= 0, got {connect_time}")
        self.service = service
        self.connect_time = connect_time
        self.clients = 0  # pools made: one per client
        self.opened = 0  # connections opened, all clients together
        self.requests = 0  # requests sent, all clients together

    def pool(self, limits: httpx.Limits = DEFAULT_LIMITS) -> Pool:
        """A new, empty connection pool: the transport of one client."""
        self.clients += 1
        emit(Kind.HTTP_CLIENT, number=self.clients)
        return Pool(self, self.clients, limits)

    def client(self, *, limits: httpx.Limits = DEFAULT_LIMITS, **options: Any) -> httpx.AsyncClient:
        """A new client of the service with a pool of its own (``base_url`` is the service's)."""
        options.setdefault("base_url", BASE_URL)
        return httpx.AsyncClient(transport=self.pool(limits), **options)

    @contextlib.contextmanager
    def intercept(self) -> Iterator[Connections]:
        """Meanwhile, ``httpx.AsyncClient(...)`` made without a transport (or mounts) is a client
        of this service with a pool of its own, honouring its ``limits``, instead of using the network."""
        original = httpx.AsyncClient.__init__
        connections = self

        def init(client: httpx.AsyncClient, *args: Any, **kwargs: Any) -> None:
            if kwargs.get("transport") is None and not kwargs.get("mounts"):
                kwargs["transport"] = connections.pool(kwargs.get("limits", DEFAULT_LIMITS))
            original(client, *args, **kwargs)

        with mock.patch.object(httpx.AsyncClient, "__init__", init):
            yield self


class Connection:
    """One connection of a pool: the service seen from one client port."""

    def __init__(self, service: Service, port: int) -> None:
        self.port = port
        self.transport = httpx.ASGITransport(app=service, client=("127.0.0.1", port))
        self.idle_since = 0.0


class Pool(httpx.AsyncBaseTransport):
    """One client's connections to the service (see the module's docstring)."""

    def __init__(self, connections: Connections, number: int, limits: httpx.Limits) -> None:
        self.connections = connections
        self.number = number
        self.limits = limits
        self.open = 0  # connections open or being opened (busy or idle)
        self.idle: list[Connection] = []
        # Requests waiting for a connection; each gets a Connection, or None: "open one, a slot is yours".
        self.waiting: collections.deque[asyncio.Future[Connection | None]] = collections.deque()
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        self.connections.requests += 1
        emit(Kind.REQUEST_START, path=path, client=self.number)
        emit(Kind.WORK_START, item=path)
        outcome = "cancelled"
        try:
            connection = await self._acquire(request, timeouts.get("pool"), timeouts.get("connect"))
            try:
                read = timeouts.get("read")
                try:
                    async with asyncio.timeout(read):
                        response = await connection.transport.handle_async_request(request)
                except TimeoutError:
                    raise httpx.ReadTimeout(f"no answer within {read:g} s", request=request) from None
            except BaseException as error:
                self._close(connection)  # a connection that carried no full answer is not reused
                if not isinstance(error, asyncio.CancelledError):
                    outcome = "failed"
                raise
            outcome = "failed" if response.status_code >= 400 else "done"
            return httpx.Response(
                response.status_code,
                headers=response.headers,
                stream=_Releasing(response.stream, lambda: self._release(connection)),
                extensions=response.extensions,
            )
        finally:
            emit(Kind.WORK_END, item=path, outcome=outcome)
            emit(Kind.REQUEST_END, path=path, outcome=outcome)

    async def aclose(self) -> None:
        self.closed = True
        while self.idle:
            self._close(self.idle.pop())

    # -- the pool --------------------------------------------------------------------------------

    async def _acquire(self, request: httpx.Request, pool: float | None, connect: float | None) -> Connection:
        self._expire_idle()
        if self.idle:
            return self.idle.pop()  # the most recently used
        maximum = self.limits.max_connections
        if maximum is None or self.open < maximum:
            self.open += 1
            return await self._connect(request, connect)
        waiter: asyncio.Future[Connection | None] = asyncio.get_running_loop().create_future()
        self.waiting.append(waiter)
        try:
            async with asyncio.timeout(pool):
                given = await waiter
        except TimeoutError:
            raise httpx.PoolTimeout(f"no connection free within {pool:g} s", request=request) from None
        except asyncio.CancelledError:
            with contextlib.suppress(ValueError):
                self.waiting.remove(waiter)
            if waiter.done() and not waiter.cancelled():  # handed over just as we were cancelled
                handed = waiter.result()
                if handed is None:
                    self.open -= 1
                    self._hand_over_slot()
                else:
                    self._release(handed)
            raise
        return given if given is not None else await self._connect(request, connect)

    async def _connect(self, request: httpx.Request, limit: float | None) -> Connection:
        """Open a connection in a slot already counted in ``open``."""
        connections = self.connections
        try:
            try:
                async with asyncio.timeout(limit):
                    await asyncio.sleep(connections.connect_time)  # the TCP (and TLS) handshakes
            except TimeoutError:
                raise httpx.ConnectTimeout(f"not connected within {limit:g} s", request=request) from None
        except BaseException:
            self.open -= 1
            self._hand_over_slot()
            raise
        connections.opened += 1
        port = FIRST_PORT + connections.opened - 1
        emit(Kind.HTTP_CONNECT, number=connections.opened, client=self.number, port=port)
        return Connection(connections.service, port)

    def _release(self, connection: Connection) -> None:
        """The response was closed: the connection is free for the next request."""
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        keep = self.limits.max_keepalive_connections
        if self.closed or (keep is not None and len(self.idle) >= keep):
            self._close(connection)
            return
        connection.idle_since = asyncio.get_running_loop().time()
        self.idle.append(connection)

    def _close(self, connection: Connection) -> None:
        self.open -= 1
        self._hand_over_slot()

    def _hand_over_slot(self) -> None:
        """A slot is free: the first request waiting for a connection opens one there."""
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                self.open += 1
                waiter.set_result(None)
                return

    def _expire_idle(self) -> None:
        expiry = self.limits.keepalive_expiry
        if expiry is None:
            return
        now = asyncio.get_running_loop().time()
        for connection in [c for c in self.idle if now - c.idle_since > expiry]:
            self.idle.remove(connection)
            self._close(connection)


class _Releasing(httpx.AsyncByteStream):
    """A response body that gives its connection back to the pool when it is closed."""

    def __init__(self, stream: httpx.SyncByteStream | httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        assert isinstance(stream, httpx.AsyncByteStream)
        self.stream = stream
        self.release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.stream:
            yield chunk

    async def aclose(self) -> None:
        release, self.release = self.release, None
        if release is not None:
            release()
        await self.stream.aclose()
