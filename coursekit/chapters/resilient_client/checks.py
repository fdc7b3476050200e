"""Chapter 10 checks: the ``ResilientClient`` class, a check per behaviour.

The semantics are those of the chapter's statements and ``solutions/resilient_client.py``.

Every scenario runs on the virtual clock, starting at ``start`` (not 0), against the course's
HTTP service in-process. The client's collaborators are instrumented stand-ins the checks
pass in: a :class:`SpyLimiter` (records each admission, and can make each one wait), a
:class:`SpyBreaker` per host (records each call, the error each attempt raised inside it,
and can reject: open from the start, or after a number of failures). So a mistake in the
learner's breaker or limiter of chapters 7 and 8 costs nothing here, and what each layer
saw is measured, not guessed from the outside. Requests are read from the service's own
log (:attr:`coursekit.service.Service.log`).

A check is a scenario (it runs the learner's client once and returns a :class:`ClientRun`:
the spies, the service and what the calls did, as the kit's :class:`~coursekit.scenario.Outcome`)
plus named properties, each a function of that observation, in the order they are required.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import httpx

from coursekit.chapters.circuit_breaker.given import CircuitOpenError
from coursekit.chapters.resilient_client.given import ClientPolicy, FailedAnswer, delays_of
from coursekit.checks import Chain, describe_error, learner_facing
from coursekit.scenario import (
    UNCANCELLED,
    Outcome,
    Swept,
    cancellation_sweep,
    cancelled_at,
    ends_cancelled_at_each_wait,
    require_class,
    sweep_instants,
    timed_call,
)
from coursekit.service import BASE_URL, Faults, Latency, RateLimit, Record, Service
from coursekit.virtual_time import VirtualRun, run_virtual

T = TypeVar("T")

HANG = "/items/7"  # never answered
DOWN = "/items/13"  # 503, always
BUSY = "/items/42"  # 429 past one request per window
MIRROR = "http://mirror.test"  # a second host: the in-process transport serves every host
SLOW = "/items/99"  # answered after SLOW_LATENCY when a check asks for it (check_get_cache)
SLOW_LATENCY = 0.25
OFFLINE = "/offline/1"  # httpx.ConnectError, always, when a check asks for it
STATUS = "/status/"  # /status/NNN: answered NNN at once by the check's transport
SCRIPTED = "/scripted/1"  # answered from a script by the check's transport (retries, Retry-After)


# ---------------------------------------------------------------- the learner's subjects


class ResilientClientLike(Protocol):
    """What the statements ask of a ``ResilientClient`` made with ``(http, policy, breaker_factory=...,
    limiter_factory=..., fallback=...)``."""

    @property
    def limiter(self) -> object: ...

    def breaker_for(self, host: str, /) -> object: ...

    def attempt(self, url: str, timeout: float, /) -> Awaitable[Any]: ...

    def fetch(self, url: str, /) -> Awaitable[Any]: ...

    def get(self, url: str, /) -> Awaitable[Any]: ...


ClientClass = Callable[..., ResilientClientLike]


class AdmitLinks(Protocol):
    """``admit_links(links, depth, depths, *, max_depth, max_pages)``: the links admitted to the frontier."""

    def __call__(
        self, links: list[str], depth: int, depths: dict[str, int], /, *, max_depth: int, max_pages: int
    ) -> list[str]: ...


# ---------------------------------------------------------------- instrumented collaborators


@dataclass
class SpyLimiter:
    """A rate limiter stand-in: ``await acquire()`` (or ``async with``) takes ``wait`` seconds and records
    when it was asked and when it admitted."""

    wait: float = 0.0
    admissions: list[float] = field(default_factory=list)
    asked: list[float] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"SpyLimiter(wait={self.wait:g})"

    async def acquire(self, amount: float = 1) -> None:
        self.asked.append(asyncio.get_running_loop().time())
        if self.wait:
            await asyncio.sleep(self.wait)
        self.admissions.append(asyncio.get_running_loop().time())

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc: object) -> None:
        return None


@dataclass
class SpyBreaker:
    """A breaker stand-in: passes calls through, records them, and rejects with CircuitOpenError when
    ``open`` (from the start, or once ``trip_after`` calls have failed)."""

    name: str
    open: bool = False
    trip_after: int | None = None
    raises: type[Exception] | None = None
    calls: list[float] = field(default_factory=list)
    failures: list[tuple[float, BaseException]] = field(default_factory=list)
    rejections: list[float] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"SpyBreaker({self.name!r})"

    async def call(self, func: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        self.calls.append(loop.time())
        if self.open:
            self.rejections.append(loop.time())
            raise CircuitOpenError(f"{self.name} is open (the check's stand-in breaker)")
        if self.raises is not None:
            raise self.raises(f"{self.name} broke (the check's stand-in breaker)")
        try:
            return await func(*args, **kwargs)
        except Exception as error:
            self.failures.append((loop.time(), error))
            if self.trip_after is not None and len(self.failures) >= self.trip_after:
                self.open = True
            raise


@dataclass
class Spies:
    """The factories a check gives the client, and what they made."""

    limiter_wait: float = 0.0
    open: bool = False
    trip_after: int | None = None
    raises: type[Exception] | None = None
    limiters: list[SpyLimiter] = field(default_factory=list)
    breakers: list[SpyBreaker] = field(default_factory=list)

    def limiter_factory(self) -> SpyLimiter:
        self.limiters.append(SpyLimiter(self.limiter_wait))
        return self.limiters[-1]

    def breaker_factory(self, host: str) -> SpyBreaker:
        self.breakers.append(SpyBreaker(host, open=self.open, trip_after=self.trip_after, raises=self.raises))
        return self.breakers[-1]

    def breaker(self, host: str = "service.test") -> SpyBreaker:
        return next(breaker for breaker in self.breakers if breaker.name == host)

    def of_host(self, host: str) -> list[SpyBreaker]:
        """The breakers made for ``host``."""
        return [breaker for breaker in self.breakers if breaker.name == host]

    @property
    def admissions(self) -> list[float]:
        return [time for limiter in self.limiters for time in limiter.admissions]


# ---------------------------------------------------------------- the scenario: the client against the service


class CheckTransport(httpx.AsyncBaseTransport):
    """The service's in-process transport, and what the service cannot do: ``/status/NNN`` is answered NNN
    at once; a path of ``scripts`` gets the n-th ``(status, Retry-After)`` of its script (the last one
    repeats); the first ``refused[path]`` requests of a path raise ``httpx.ConnectError`` (a network
    error). Every request's loop time is recorded by path in ``made``, refused or not."""

    def __init__(
        self,
        service: Service,
        *,
        refused: dict[str, int] | None = None,
        scripts: dict[str, list[tuple[int, str | None]]] | None = None,
    ) -> None:
        self.inner = httpx.ASGITransport(app=service)
        self.refused = refused or {}
        self.scripts = scripts or {}
        self.made: dict[str, list[float]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        made = self.made.setdefault(path, [])
        made.append(asyncio.get_running_loop().time())
        if len(made) <= self.refused.get(path, 0):
            raise httpx.ConnectError("connection refused (the check's transport)", request=request)
        if path.startswith(STATUS):
            return httpx.Response(int(path.removeprefix(STATUS)), request=request)
        if path in self.scripts:
            script = self.scripts[path]
            status, after = script[min(len(made), len(script)) - 1]
            headers = {} if after is None else {"retry-after": after}
            return httpx.Response(status, headers=headers, request=request)
        return await self.inner.handle_async_request(request)


class _CannotMake(Exception):
    def __init__(self, error: Exception) -> None:
        super().__init__(describe_error(error))
        self.error = error


@dataclass
class ClientRun(Generic[T]):
    """What a scenario observed: the spies the client was given, the service (its log of requests), and
    what the scenario returned (the calls' outcomes, mostly)."""

    spies: Spies
    service: Service
    value: T
    transport: CheckTransport | None = None
    run: VirtualRun[T] | None = None

    def made(self, path: str, origin: float = 0.0) -> list[float]:
        """When the client sent the requests of ``path`` (loop clock, minus ``origin``), refused ones too."""
        return [time - origin for time in (self.transport.made.get(path, []) if self.transport else [])]

    def requests(self, path: str | None = None) -> list[Record]:
        """The requests the service saw (of ``path``)."""
        return [record for record in self.service.log if path is None or record.path == path]

    def times(self, path: str) -> list[float]:
        """When the requests of ``path`` reached the service, on its clock."""
        return [record.time for record in self.requests(path)]


def _service(
    *, latency: float = 0.0, outages: tuple[tuple[float, float], ...] = (), window: float = 5.0, slow: bool = False
) -> Service:
    """The service for a scenario: ``latency`` per answer, ``/items/1`` down during ``outages``, ``/items/7``
    hangs, ``/items/13`` is down, ``/items/42`` answers one request per ``window`` seconds (429 with
    Retry-After past it); with ``slow``, ``/items/99`` answers after ``SLOW_LATENCY``."""
    fixed = Latency.fixed(latency)
    endpoints = {
        "/items/1": Faults(latency=fixed, outages=outages),
        HANG: Faults(hang_rate=1.0),
        DOWN: Faults(latency=fixed, outages=((0.0, 1e9),)),
        BUSY: Faults(latency=fixed, rate_limit=RateLimit(1, window)),
    }
    if slow:
        endpoints[SLOW] = Faults(latency=Latency.fixed(SLOW_LATENCY))
    return Service(seed=5, faults=Faults(latency=fixed), endpoints=endpoints)


@dataclass
class Scene:
    """A scenario's setting: the learner's class, when the scenario starts (loop clock), the spies given to
    the client and the service it talks to."""

    client_class: ClientClass
    start: float
    spies: Spies = field(default_factory=Spies)
    service: Service = field(default_factory=_service)
    refused: dict[str, int] = field(default_factory=lambda: {OFFLINE: 10**9})
    scripts: dict[str, list[tuple[int, str | None]]] = field(default_factory=dict)

    def make(
        self,
        http: httpx.AsyncClient,
        policy: ClientPolicy | None = None,
        *,
        spies: Spies | None = None,
        fallback: Any = None,
    ) -> ResilientClientLike:
        """The learner's client, made inside the run (its httpx client needs the loop), with the scene's spies
        unless ``spies``; a constructor that raises is reported by :meth:`run` (the placeholder's
        NotImplementedError as the placeholder)."""
        spies = spies or self.spies
        try:
            return self.client_class(
                http,
                policy or ClientPolicy(),
                breaker_factory=spies.breaker_factory,
                limiter_factory=spies.limiter_factory,
                fallback=fallback,
            )
        except NotImplementedError:
            raise
        except Exception as error:
            raise _CannotMake(error) from error

    def run(self, chain: Chain, script: Callable[[httpx.AsyncClient], Awaitable[T]], deadline: float) -> ClientRun[T]:
        """``script(http)`` on the virtual clock from ``start``, with an httpx client of the service; fails
        ``chain`` unless the class is a class, could be made, and the run finished. What it observed."""
        require_class(chain, self.client_class, "ResilientClient")
        transport = CheckTransport(self.service, refused=self.refused, scripts=self.scripts)

        async def main() -> T:
            await asyncio.sleep(self.start)
            self.service.start()
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
                return await script(http)

        run: VirtualRun[T] = run_virtual(main, deadline=deadline)
        if isinstance(run.error, _CannotMake):
            chain.fail(
                "ResilientClient(http, policy, breaker_factory=..., limiter_factory=..., fallback=...) can be made",
                observed=f"raised {run.error}",
                hint="keep the given constructor's parameters; fill in only the marked part of __init__",
            )
        chain.require_finished(
            run,
            "the scenario",
            hang_hint="a wait that nobody ends: a bulkhead slot never given back (use `async with`), "
            "or a retry loop that never gives up",
        )
        return ClientRun(self.spies, self.service, run.unwrap(), transport, run)


def service_time(service: Service, loop_time: float) -> float:
    """A loop time on the service's clock."""
    return loop_time - (service._origin or 0.0)


def _retry_policy(**settings: Any) -> ClientPolicy:
    base: dict[str, Any] = {
        "attempt_timeout": 1.0,
        "attempts": 4,
        "delays": delays_of((0.5, 1.0, 2.0)),
        "deadline": None,
    }
    base.update(settings)
    return ClientPolicy(**base)


def _show(value: Any) -> str:
    """A value a call returned, in a message: a response by its status and path."""
    if isinstance(value, httpx.Response):
        return f"the response {value.status_code} of {value.request.url.path}"
    return repr(value)


def _said(outcome: Outcome) -> str:
    """``returned the response 200 of /items/1 at t=..`` or ``raised ERROR at t=..``."""
    return outcome.describe(_show)


def _is_response(value: Any, status: int) -> bool:
    return isinstance(value, httpx.Response) and value.status_code == status


def _times(values: list[float], origin: float = 0.0) -> str:
    return "[" + ", ".join(f"{value - origin:g}" for value in values) + "]" if values else "none"


def _require_outcome(chain: Chain, outcome: Outcome, what: str, holds: Callable[[Outcome], bool], *, hint: str) -> None:
    chain.require(holds(outcome), what, observed=f"the call {_said(outcome)}", hint=hint)


# ---------------------------------------------------------------- exercise 1: made once, shared


@learner_facing
def check_limiter_made_once(client_class: ClientClass, *, clients: int = 2, start: float = 3.5) -> None:
    """Makes ``clients`` ResilientClients: each calls ``limiter_factory()`` exactly once, while it is made,
    keeps what it returned as ``self.limiter``, makes no breaker yet, and sends no request."""
    chain = Chain("ResilientClient")
    scene = Scene(client_class, start)

    async def make_clients(http: httpx.AsyncClient) -> list[tuple[ResilientClientLike, int]]:
        made = []
        for _ in range(clients):
            before = len(scene.spies.limiters)
            made.append((scene.make(http), len(scene.spies.limiters) - before))
        return made

    seen = scene.run(chain, make_clients, start + 10)
    each_client_keeps_the_limiter_it_made_once(chain, seen)
    no_breaker_is_made_before_one_is_asked_for(chain, seen)
    making_a_client_sends_no_request(chain, seen)


def each_client_keeps_the_limiter_it_made_once(
    chain: Chain, seen: ClientRun[list[tuple[ResilientClientLike, int]]]
) -> None:
    for number, (client, count) in enumerate(seen.value, 1):
        chain.require(
            count == 1,
            f"client {number}: __init__ calls limiter_factory() exactly once",
            observed=f"it called limiter_factory() {count} times",
            hint="make the limiter once, in __init__ (self.limiter = limiter_factory()): every call then shares it; "
            "document 002's resilient_api_call makes a new one per call, and its limiter never limits",
        )
        limiter = getattr(client, "limiter", None)
        chain.require(
            limiter is seen.spies.limiters[number - 1],
            f"client {number}: self.limiter is what limiter_factory() returned",
            observed=f"client.limiter is {limiter!r}",
            hint="store the limiter the factory made: self.limiter = limiter_factory()",
        )


def no_breaker_is_made_before_one_is_asked_for(chain: Chain, seen: ClientRun[Any]) -> None:
    chain.require(
        not seen.spies.breakers,
        "no breaker is made before one is asked for (no host is known yet)",
        observed=f"breaker_factory was called for {[breaker.name for breaker in seen.spies.breakers]}",
        hint="make a host's breaker in breaker_for(host), the first time that host is asked for",
    )


def making_a_client_sends_no_request(chain: Chain, seen: ClientRun[Any]) -> None:
    chain.require(
        not seen.service.log,
        "making a client sends no request",
        observed=f"the service saw {len(seen.service.log)} requests",
        hint="__init__ only stores and makes the layers; requests happen in get()",
    )


@learner_facing
def check_breaker_for(
    client_class: ClientClass,
    *,
    hosts: tuple[str, ...] = ("service.test", "mirror.test", "service.test", "mirror.test"),
    start: float = 1.25,
) -> None:
    """Asks one client's ``breaker_for`` for each of ``hosts`` in turn, then a second client for the first:
    each host's breaker is made by ``breaker_factory(host)`` once, the same object is returned every time
    after, two hosts have two breakers, and two clients do not share theirs."""
    chain = Chain("ResilientClient")
    scene = Scene(client_class, start)

    async def ask(http: httpx.AsyncClient) -> tuple[list[object], object]:
        client = scene.make(http)
        given = [client.breaker_for(host) for host in hosts]
        other = scene.make(http)
        return given, (other.breaker_for(hosts[0]) if hosts else None)

    seen = scene.run(chain, ask, start + 10)
    made = each_host_has_one_breaker_made_by_the_factory(chain, seen, hosts)
    if hosts:
        a_second_client_has_breakers_of_its_own(chain, seen, made[hosts[0]], hosts[0])


def each_host_has_one_breaker_made_by_the_factory(
    chain: Chain, seen: ClientRun[tuple[list[object], object]], hosts: tuple[str, ...]
) -> dict[str, object]:
    """Each host's first breaker_for is breaker_factory(host), and later ones return it; {host: breaker}."""
    breakers = seen.spies.breakers
    made: dict[str, object] = {}
    for number, (host, breaker) in enumerate(zip(hosts, seen.value[0], strict=True), 1):
        if host not in made:
            fresh = [b for b in breakers if b.name == host and b not in made.values()]
            chain.require(
                bool(fresh) and breaker is fresh[0],
                f"breaker_for({host!r}), asked for the first time (call {number}), returns breaker_factory({host!r})",
                observed=f"it returned {breaker!r}; breaker_factory was called for "
                f"{[b.name for b in breakers] or 'no host'}",
                hint="call self.breaker_factory(host) with the host itself, keep what it returns (a dict by host), "
                "and return it",
            )
            made[host] = breaker
        else:
            chain.require(
                breaker is made[host],
                f"breaker_for({host!r}), asked again (call {number}), returns the same breaker",
                observed=f"it returned {breaker!r}, a different object from the first; breaker_factory was called "
                f"{sum(b.name == host for b in breakers)} times for {host!r}",
                hint="one breaker per host, shared by every call: look the host up in a dict before making one. "
                "A breaker made per call never sees more than one failure, and never opens (document 002)",
            )
    return made


def a_second_client_has_breakers_of_its_own(
    chain: Chain, seen: ClientRun[tuple[list[object], object]], first: object, host: str
) -> None:
    chain.require(
        seen.value[1] is not first,
        "a second client has breakers of its own",
        observed=f"the second client's breaker_for({host!r}) returned the first client's breaker",
        hint="keep the breakers in an attribute made in __init__ (self.breakers = {}), not in a class attribute "
        "or a default argument, which every client shares",
    )


# ---------------------------------------------------------------- exercise 2: attempt and fetch


@learner_facing
def check_attempt(
    client_class: ClientClass,
    *,
    timeout: float = 1.5,
    limiter_wait: float = 0.0,
    start: float = 2.5,
    every_status: bool = False,
) -> None:
    """``attempt(url, timeout)`` once each for: a 200, a 404, a 503 (``/items/13``), a 429 (``/items/42``,
    its second request), and a request never answered (``/items/7``). Each takes one admission from
    ``self.limiter`` (taking ``limiter_wait`` seconds) before its request. With ``every_status``, one attempt
    for every status from 200 to 599 instead: each 429 and 5xx raises FailedAnswer, every other is returned."""
    chain = Chain("ResilientClient.attempt")
    scene = Scene(client_class, start, Spies(limiter_wait=limiter_wait), _service(latency=0.25))
    if every_status:
        every_status_is_raised_or_returned(chain, scene, timeout)
        return
    urls = ["/items/1", "/pages/999", DOWN, BUSY, BUSY, HANG]

    async def attempts(http: httpx.AsyncClient) -> list[Outcome]:
        client = scene.make(http, ClientPolicy(attempt_timeout=timeout))
        return [await timed_call(client.attempt(url, timeout)) for url in urls]

    deadline = start + 10 * (timeout + limiter_wait + 1)
    seen = scene.run(chain, attempts, deadline)
    ok, missing, down, _, busy, hang = seen.value
    the_wait_for_the_limiter_is_not_in_the_timeout(chain, seen, timeout, limiter_wait)
    _require_outcome(
        chain,
        ok,
        "a 200 answer is returned (the httpx response)",
        lambda o: _is_response(o.value, 200),
        hint="return the response of `await self.client.get(url)`",
    )
    each_attempt_is_admitted_once_before_its_request(chain, seen, len(urls))
    _require_outcome(
        chain,
        missing,
        "a 404 answer is returned as it is, not raised",
        lambda o: _is_response(o.value, 404),
        hint="only 429 and 5xx are failures; a 4xx says the request was wrong, and another attempt cannot fix it",
    )
    a_503_or_429_raises_failed_answer(chain, down, 503)
    a_503_or_429_raises_failed_answer(chain, busy, 429)
    a_request_never_answered_times_out_after_the_admission(chain, hang, timeout, limiter_wait)


COVERS_ONLY_THE_REQUEST = (
    "the timeout covers the request only: `await self.limiter.acquire()` first, then "
    "`async with asyncio.timeout(timeout):` around `self.client.get(url)` alone (a wait for the limiter is "
    "the client's own queueing, not the service failing, and the breaker must not count it)"
)


def the_wait_for_the_limiter_is_not_in_the_timeout(
    chain: Chain, seen: ClientRun[list[Outcome]], timeout: float, limiter_wait: float
) -> None:
    """An attempt that asked the limiter and timed out before ``limiter_wait + timeout`` (or while its answer
    was on its way) counted the wait for the limiter in its timeout."""
    asked = seen.spies.limiters[0].asked if seen.spies.limiters else []
    early = [
        (number, outcome)
        for number, outcome in enumerate(seen.value, 1)
        if isinstance(outcome.error, TimeoutError)
        and len(asked) >= number
        and (outcome.ended or 0.0) < asked[number - 1] + limiter_wait + timeout - 1e-9
    ]
    if not limiter_wait:
        return
    chain.require(
        not early,
        f"an attempt's timeout of {timeout:g} s starts after its admission (the limiter takes {limiter_wait:g} s)",
        observed=lambda: f"attempt {early[0][0]} raised TimeoutError {early[0][1].took:g} s after attempt() was called",
        hint=COVERS_ONLY_THE_REQUEST,
    )


def every_status_is_raised_or_returned(chain: Chain, scene: Scene, timeout: float) -> None:
    statuses = range(200, 600)

    async def attempts(http: httpx.AsyncClient) -> list[Outcome]:
        client = scene.make(http, ClientPolicy(attempt_timeout=timeout))
        return [await timed_call(client.attempt(f"{STATUS}{status}", timeout)) for status in statuses]

    seen = scene.run(chain, attempts, scene.start + 10)
    failing = [status for status in statuses if status == 429 or status >= 500]
    wrong = [
        (status, outcome)
        for status, outcome in zip(statuses, seen.value, strict=True)
        if not (
            isinstance(outcome.error, FailedAnswer) and _is_response(getattr(outcome.error, "response", None), status)
            if status in failing
            else _is_response(outcome.value, status)
        )
    ]
    for failure in (True, False):
        these = [(status, outcome) for status, outcome in wrong if (status in failing) is failure]
        chain.require(
            not these,
            "of the statuses 200 to 599, each 429 and 5xx raises FailedAnswer carrying its response"
            if failure
            else "of the statuses 200 to 599, every other (2xx, 3xx, a 4xx but 429, 408 too) is returned",
            observed=(
                f"the {these[0][0]} {_said(these[0][1])}; {len(these)} of "
                + ("the 429 and 5xx were not raised as FailedAnswer: " if failure else "the others were not returned: ")
                + ", ".join(str(status) for status, _ in these[:8])
                + (", ..." if len(these) > 8 else "")
            )
            if these
            else "",
            hint="every 5xx is a failure, not only 500 or 503: `response.status_code == 429 or "
            "response.is_server_error` (500 <= status <= 599); any other status is an answer, returned"
            if failure
            else "only 429 and the 5xx are failures; a 4xx (408 and 404 too) or a 3xx is an answer: return it",
        )


def each_attempt_is_admitted_once_before_its_request(chain: Chain, seen: ClientRun[Any], count: int) -> None:
    admissions = seen.spies.limiters[0].admissions if seen.spies.limiters else []
    chain.require(
        len(admissions) == count,
        f"each of the {count} attempts takes exactly one admission from self.limiter",
        observed=f"self.limiter admitted {len(admissions)} times",
        hint="await self.limiter.acquire() once at the start of attempt(), before the request",
    )
    service = seen.service
    late = [
        (record.time, service_time(service, admitted))
        for record, admitted in zip(service.log, admissions, strict=False)
        if service_time(service, admitted) > record.time + 1e-9
    ]
    chain.require(
        not late,
        "each request is sent after its admission",
        observed=lambda: (
            f"a request reached the service at t={late[0][0]:g} (service clock), "
            f"before its admission at t={late[0][1]:g}"
        ),
        hint="await the limiter before client.get, not after or beside it",
    )


def a_503_or_429_raises_failed_answer(chain: Chain, outcome: Outcome, status: int) -> None:
    error = outcome.error
    chain.require(
        isinstance(error, FailedAnswer)
        and isinstance(getattr(error, "response", None), httpx.Response)
        and error.response.status_code == status,
        f"a {status} answer raises FailedAnswer carrying that response",
        observed=f"the call {_said(outcome)}",
        hint="raise FailedAnswer(response) (given) for a 429 or a 5xx, so that the breaker around the attempt "
        "counts it and the retry loop can read its Retry-After",
    )


def a_request_never_answered_times_out_after_the_admission(
    chain: Chain, hang: Outcome, timeout: float, limiter_wait: float
) -> None:
    expected = hang.asked + limiter_wait + timeout
    _require_outcome(
        chain,
        hang,
        "a request never answered raises TimeoutError",
        lambda o: isinstance(o.error, TimeoutError),
        hint="wrap the request in `async with asyncio.timeout(timeout):`",
    )
    chain.require(
        abs((hang.ended or 0.0) - expected) < 1e-6,
        f"it raises it {timeout:g} s after the admission (t={expected:g})",
        observed=f"it raised at t={hang.ended:g}, {(hang.ended or 0.0) - hang.asked:g} s after attempt() was called",
        hint="the timeout covers the request only: wait for the limiter first, then start asyncio.timeout(timeout) "
        "(a wait for the limiter is not the service's slowness)",
    )


@dataclass(frozen=True)
class RetryPlan:
    """When fetch's attempts should reach the service, for ``failures`` failing attempts, ``attempts`` at
    most and ``delays``: ``count`` attempts at ``expected``; ``succeeds`` if one gets the 200 (``answered``,
    0-based); ``/items/1`` is down until ``down_until``."""

    expected: list[float]
    count: int
    succeeds: bool
    answered: int
    down_until: float

    @classmethod
    def of(cls, failures: int, attempts: int, delays: tuple[float, ...]) -> RetryPlan:
        planned = [0.0]
        for delay in delays:
            planned.append(planned[-1] + delay)
        succeeds = failures < attempts and failures <= len(delays)
        count = failures + 1 if succeeds else min(attempts, len(delays) + 1)
        down_until = planned[min(failures, len(planned)) - 1] + 0.25 if failures else 0.0
        return cls(planned[:count], count, succeeds, min(failures, len(delays), attempts - 1), down_until)


@learner_facing
def check_fetch_retries(
    client_class: ClientClass,
    *,
    failures: int = 2,
    attempts: int = 4,
    delays: tuple[float, ...] = (0.5, 1.0, 2.0),
    refused: bool = False,
    start: float = 4.75,
    cancelled: bool = False,
) -> None:
    """``fetch("/items/1")`` while it is down for its first ``failures`` attempts (503 at once; with
    ``refused``, httpx.ConnectError instead, a network error): an attempt every time the next delay has
    passed, each through the host's breaker, until the 200, which is returned; if every attempt fails, the
    last error is raised. Then, through the same client, ``fetch`` of a 404 page: one attempt, the 404
    returned; and ``fetch("/items/13")`` (503, always): its retries wait the delays from the first again.
    With ``cancelled``, a fetch cancelled at each of its waits in turn instead (the limiter, the request, the
    retry's sleep): it raises CancelledError and sends no request after."""
    chain = Chain("ResilientClient.fetch")
    if cancelled:
        a_cancelled_fetch_stops(chain, _sweep(chain, client_class, start, "fetch", queued=False))
        return
    plan = RetryPlan.of(failures, attempts, delays)
    outages = ((0.0, plan.down_until),) if failures and not refused else ()
    scene = Scene(client_class, start, service=_service(outages=outages))
    if refused:
        scene.refused["/items/1"] = failures
    policy = _retry_policy(attempts=attempts, delays=delays_of(delays))

    scene.scripts[SCRIPTED] = [(500, None), (502, None), (200, None)]

    async def fetch_thrice(http: httpx.AsyncClient) -> tuple[Outcome, Outcome, Outcome, Outcome]:
        client = scene.make(http, policy)
        outcome = await timed_call(client.fetch("/items/1"))
        missing = await timed_call(client.fetch("/pages/999"))
        down = await timed_call(client.fetch(DOWN))
        return outcome, missing, down, await timed_call(scene.make(http, policy, spies=Spies()).fetch(SCRIPTED))

    deadline = start + 10 + sum(delays) * 4
    seen = scene.run(chain, fetch_thrice, deadline)
    the_attempts_reach_the_service_after_each_delay(chain, seen, plan, delays, refused)
    fetch_returns_the_200_or_raises_the_last_error(chain, seen, plan, refused)
    _require_outcome(
        chain,
        seen.value[1],
        "fetch of a 404 page returns the 404 after one attempt",
        lambda o: _is_response(o.value, 404) and len(seen.requests("/pages/999")) == 1,
        hint="a 4xx other than 429 is an answer: return it, never retry it",
    )
    each_fetch_waits_the_delays_from_the_first(chain, seen, attempts, delays)
    every_5xx_is_retried(chain, seen, attempts, delays)
    down = RetryPlan.of(attempts, attempts, delays)
    every_attempt_goes_through_the_host_breaker(chain, seen, plan.count + 1 + down.count)


def the_attempts_reach_the_service_after_each_delay(
    chain: Chain, seen: ClientRun[Any], plan: RetryPlan, delays: tuple[float, ...], refused: bool = False
) -> None:
    fetched = seen.value[0]
    made = seen.made("/items/1", fetched.asked)
    network = isinstance(fetched.error, httpx.TransportError)
    chain.require(
        made == plan.expected,
        f"the attempts reach the service at t={_times(plan.expected)} after the call "
        f"({plan.count} attempts: delays {_times(list(delays))})"
        + (f"; the first {plan.answered} raise httpx.ConnectError" if refused else ""),
        observed=f"they reached it at t={_times(made)}" + (f"; fetch {_said(fetched)}" if network else ""),
        hint="retry an httpx.TransportError (ConnectError, ReadError, ...: the network failed) like a FailedAnswer "
        "or a TimeoutError: `except (FailedAnswer, TimeoutError, httpx.TransportError)`"
        if refused and network and len(made) < plan.count
        else "retry a FailedAnswer after the next of self.policy.delays() (a fresh iterator per call), "
        "at most policy.attempts attempts in all; stop when the delays run out"
        if len(made) != plan.count
        else "wait exactly the next delay between attempts (asyncio.sleep), nothing more",
    )


def fetch_returns_the_200_or_raises_the_last_error(
    chain: Chain, seen: ClientRun[Any], plan: RetryPlan, refused: bool = False
) -> None:
    outcome = seen.value[0]
    if plan.succeeds:
        _require_outcome(
            chain,
            outcome,
            f"attempt {plan.answered + 1} gets the 200, which fetch returns",
            lambda o: _is_response(o.value, 200),
            hint="return the response of the attempt that succeeded",
        )
        return
    breaker = seen.spies.breakers[0] if seen.spies.breakers else None
    last = breaker.failures[plan.count - 1][1] if breaker and len(breaker.failures) >= plan.count else None
    kind: type[Exception] = httpx.TransportError if refused else FailedAnswer
    _require_outcome(
        chain,
        outcome,
        f"when every attempt failed, fetch raises the last {'ConnectError' if refused else 'FailedAnswer'} "
        "(the same error object)",
        lambda o: isinstance(o.error, kind) and (last is None or o.error is last),
        hint="give up by re-raising the last error (`raise` inside its except), not a new one",
    )


def every_5xx_is_retried(chain: Chain, seen: ClientRun[Any], attempts: int, delays: tuple[float, ...]) -> None:
    """The fourth fetch, through a new client, of a URL answering 500, then 502, then 200."""
    fetched = seen.value[3]
    plan = RetryPlan.of(2, attempts, delays)
    made = seen.made(SCRIPTED, fetched.asked)
    chain.require(
        made == plan.expected,
        f"a fetch of a URL answering 500, then 502, then 200 attempts at t={_times(plan.expected)} after its call",
        observed=f"it attempted at t={_times(made)}, and {_said(fetched)}",
        hint="every 5xx is a failed answer, retried, not only 503: `response.status_code == 429 or "
        "response.is_server_error`",
    )


def each_fetch_waits_the_delays_from_the_first(
    chain: Chain, seen: ClientRun[Any], attempts: int, delays: tuple[float, ...]
) -> None:
    """The third fetch, of the 503, through the same client: its attempts follow the delays from the first."""
    down = seen.value[2]
    plan = RetryPlan.of(attempts, attempts, delays)
    made = seen.made(DOWN, down.asked)
    chain.require(
        made == plan.expected and isinstance(down.error, FailedAnswer),
        f"a later fetch through the same client (of /items/13, 503 always) attempts at t={_times(plan.expected)} "
        "after its call: its delays start from the first again",
        observed=f"it attempted at t={_times(made)}, and {_said(down)}",
        hint="call self.policy.delays() at the start of each fetch (a fresh iterator per call): an iterator made "
        "once, in __init__, is used up by the earlier calls, and a later call gives up too soon",
    )


def every_attempt_goes_through_the_host_breaker(chain: Chain, seen: ClientRun[Any], calls: int) -> None:
    host_breakers = seen.spies.of_host("service.test")
    through = len(host_breakers[0].calls) if host_breakers else 0
    chain.require(
        len(host_breakers) == 1 and through == calls,
        f"every attempt goes through the host's breaker: breaker_for('service.test').call(...), {calls} calls",
        observed=f"breaker_factory made {len(host_breakers)} breakers for 'service.test'; "
        f"{through} calls went through the first",
        hint="call self.breaker_for(host_of(self.client, url)) once per fetch, and make each attempt with "
        "`await breaker.call(self.attempt, url, timeout)`",
    )


@learner_facing
def check_fetch_retry_after(
    client_class: ClientClass,
    *,
    window: float = 4.0,
    deadline: float | None = None,
    delay: float = 0.1,
    retry_after: str | None = None,
    status: int = 429,
    start: float = 2.25,
) -> None:
    """``/items/42`` answers one request per ``window`` seconds (429 with ``Retry-After`` past it). The
    check takes the window's one request itself, half a second in; then ``fetch("/items/42")``: the
    429's Retry-After (seconds to the next window, rounded up) replaces the ``delay`` of the backoff, and
    the second attempt gets the 200. With a ``deadline`` the Retry-After reaches, fetch gives up at once
    and raises the FailedAnswer of the 429. With ``retry_after`` (a header's text), a fetch whose first
    answer is ``status`` with that ``Retry-After``, then a 200, instead: the second attempt comes after
    that many seconds (after ``delay`` if it is not a whole number of seconds)."""
    chain = Chain("ResilientClient.fetch")
    if retry_after is not None:
        the_wait_is_what_retry_after_says(chain, client_class, start, delay, retry_after, status)
        return
    scene = Scene(client_class, start, service=_service(window=window))
    policy = _retry_policy(attempts=3, delays=delays_of((delay, delay)), deadline=deadline)
    asked = float(max(1, -(-(window - 0.5) // 1)))

    async def fetch_when_busy(http: httpx.AsyncClient) -> Outcome:
        await asyncio.sleep(0.5)
        await http.get(BUSY)  # the window's one request
        client = scene.make(http, policy)
        return await timed_call(client.fetch(BUSY))

    seen = scene.run(chain, fetch_when_busy, start + 4 * window + 10)
    gives_up = deadline is not None and asked >= deadline
    the_second_attempt_waits_the_retry_after(chain, seen, asked, deadline if gives_up else None, delay)
    if gives_up:
        _require_outcome(
            chain,
            seen.value,
            "fetch raises the FailedAnswer of the 429 at once",
            lambda o: isinstance(o.error, FailedAnswer) and o.ended == o.asked,
            hint="re-raise the last error when the wait would end at or after the deadline",
        )
    else:
        _require_outcome(
            chain,
            seen.value,
            "fetch returns the 200 of the second attempt",
            lambda o: _is_response(o.value, 200),
            hint="after the wait, attempt again and return its answer",
        )


def the_wait_is_what_retry_after_says(
    chain: Chain, client_class: ClientClass, start: float, delay: float, retry_after: str, status: int
) -> None:
    scene = Scene(client_class, start, scripts={SCRIPTED: [(status, retry_after), (200, None)]})
    policy = _retry_policy(attempts=3, delays=delays_of((delay, delay)))
    seen = scene.run(chain, _fetching(scene, policy, SCRIPTED), start + 20 + 2 * delay)
    fetched = seen.value
    made = seen.made(SCRIPTED, fetched.asked)
    said = float(retry_after) if retry_after.isdigit() else None
    wait = delay if said is None else said
    if said is None:
        hint = (
            f"a Retry-After that is not a whole number of seconds ({retry_after!r}) is no Retry-After: "
            "retry_after_seconds(error.response) gives None, and the backoff delay applies"
        )
    elif made[1:2] == [delay]:
        hint = (
            "Retry-After: 0 asks for a retry at once: test `seconds is not None`, not `if seconds:` (0 is falsy)"
            if said == 0
            else f"a {status} carrying a Retry-After is a failed answer like a 429: wait what it says"
        )
    elif made[1:2] == [max(delay, said)]:
        hint = "wait what Retry-After says instead of the backoff delay, even when the delay is longer: not max()"
    else:
        hint = "when a FailedAnswer's response has a Retry-After, wait that long instead of the backoff delay"
    chain.require(
        made == [0.0, wait] and _is_response(fetched.value, 200),
        f"after a {status} with Retry-After: {retry_after} (backoff delay {delay:g} s), the second attempt "
        f"comes {wait:g} s after the first, and fetch returns its 200",
        observed=f"the attempts came at t={_times(made)} after the call; fetch {_said(fetched)}",
        hint=hint,
    )


def the_second_attempt_waits_the_retry_after(
    chain: Chain, seen: ClientRun[Outcome], asked: float, short_deadline: float | None, delay: float = 0.1
) -> None:
    """``short_deadline``: the deadline, when the Retry-After reaches it (fetch gives up); else None."""
    made = seen.times(BUSY)[1:]
    expected = [0.5] if short_deadline is not None else [0.5, 0.5 + asked]
    chain.require(
        made == expected,
        f"fetch's attempts reach the service at t={_times(expected)} (service clock): the 429 says "
        f"Retry-After: {asked:g}"
        + (f", more than the deadline of {short_deadline:g} s allows" if short_deadline is not None else ""),
        observed=f"they reached it at t={_times(made)}",
        hint="wait what Retry-After says instead of the backoff delay, even when the delay is longer: not max()"
        if short_deadline is None and made[1:2] == [0.5 + max(asked, delay)] and delay > asked
        else "when a FailedAnswer's response has a Retry-After (retry_after_seconds(error.response), given), "
        "wait that long instead of the backoff delay"
        if short_deadline is None
        else "give up, without waiting, when the wait would end at or after the deadline",
    )


@learner_facing
def check_fetch_timeouts_count(
    client_class: ClientClass, *, timeout: float = 0.75, attempts: int = 3, start: float = 6.25
) -> None:
    """``fetch("/items/7")``, a request never answered, with ``attempt_timeout=timeout`` and delays of 1 s:
    each attempt raises TimeoutError *inside* the breaker's call, ``timeout`` seconds after it started (so a
    breaker counts it as a failure); it is retried; after ``attempts`` attempts fetch raises TimeoutError.
    Then a second fetch of it through the same client: the same attempts, the same delays."""
    chain = Chain("ResilientClient.fetch")
    scene = Scene(client_class, start)
    policy = _retry_policy(attempt_timeout=timeout, attempts=attempts, delays=delays_of([1.0] * attempts))

    async def fetch_twice(http: httpx.AsyncClient) -> tuple[Outcome, int, Outcome]:
        client = scene.make(http, policy)
        first = await timed_call(client.fetch(HANG))
        seen_by_then = sum(len(breaker.failures) for breaker in scene.spies.breakers)
        return first, seen_by_then, await timed_call(client.fetch(HANG))

    seen = scene.run(chain, fetch_twice, start + 2 * attempts * (timeout + 2) + 10)
    outcome, count, second = seen.value
    every = (seen.spies.breakers[0] if seen.spies.breakers else SpyBreaker("none")).failures
    failures = every[:count]
    each_attempt_times_out_inside_the_breaker(chain, failures, attempts)
    expected = [outcome.asked + n * (timeout + 1.0) + timeout for n in range(attempts)]
    at = [time for time, _ in failures]
    chain.require(
        all(abs(a - b) < 1e-6 for a, b in zip(at, expected, strict=True)),
        f"they time out at t={_times(expected, outcome.asked)} after the call",
        observed=f"they timed out at t={_times(at, outcome.asked)}",
        hint="each attempt gets policy.attempt_timeout seconds (no deadline here), then the next delay",
    )
    _require_outcome(
        chain,
        outcome,
        "fetch raises the last TimeoutError",
        lambda o: isinstance(o.error, TimeoutError) and o.error is failures[-1][1],
        hint="after the last attempt, re-raise its error (`raise`)",
    )
    later = [time - second.asked for time, _ in every[count:]]
    wanted = [n * (timeout + 1.0) + timeout for n in range(attempts)]
    chain.require(
        len(later) == attempts and all(abs(a - b) < 1e-6 for a, b in zip(later, wanted, strict=False)),
        f"a second fetch through the same client times out at t={_times(wanted)} after its call too",
        observed=f"its attempts timed out at t={_times(later)}",
        hint="call self.policy.delays() at the start of each fetch (a fresh iterator per call): an iterator made "
        "once, in __init__, is used up by the earlier calls, and a later call gives up too soon",
    )


def _fetching(scene: Scene, policy: ClientPolicy, url: str) -> Callable[[httpx.AsyncClient], Awaitable[Outcome]]:
    """The script of one client's one fetch of ``url``."""

    async def fetch(http: httpx.AsyncClient) -> Outcome:
        return await timed_call(scene.make(http, policy).fetch(url))

    return fetch


def each_attempt_times_out_inside_the_breaker(
    chain: Chain, failures: list[tuple[float, BaseException]], attempts: int
) -> None:
    kinds = [type(error).__name__ for _, error in failures]
    chain.require(
        len(failures) == attempts and all(isinstance(error, TimeoutError) for _, error in failures),
        f"each of the {attempts} attempts raises TimeoutError inside breaker.call (a failure the breaker counts)",
        observed=f"the breaker's call saw {len(failures)} errors: {kinds or 'none'}",
        hint="the timeout must be inside the function the breaker calls (attempt), not around breaker.call: "
        "a timeout is the service failing, and the breaker must count it"
        if len(failures) < attempts
        else "retry a TimeoutError like a failed answer, up to policy.attempts attempts",
    )


@learner_facing
def check_fetch_deadline(
    client_class: ClientClass, *, deadline: float = 2.5, attempt_timeout: float = 5.0, start: float = 3.75
) -> None:
    """Two calls with ``deadline`` and 10 attempts, delays of 1 s: ``fetch("/items/13")`` (503 at once,
    always) attempts at t = 0, 1, 2, ... while the next wait ends before the deadline, then raises the
    last FailedAnswer; ``fetch("/items/7")`` (never answered) with ``attempt_timeout`` longer than the
    deadline raises TimeoutError at the deadline: no attempt runs past it."""
    chain = Chain("ResilientClient.fetch")
    scene = Scene(client_class, start)
    policy = _retry_policy(attempt_timeout=attempt_timeout, attempts=10, delays=delays_of([1.0] * 9), deadline=deadline)

    async def fetch_both(http: httpx.AsyncClient) -> tuple[Outcome, Outcome]:
        client = scene.make(http, policy)
        down = await timed_call(client.fetch(DOWN))
        return down, await timed_call(client.fetch(HANG))

    seen = scene.run(chain, fetch_both, start + 40 + 20 * attempt_timeout)
    down, hang = seen.value
    expected = [float(n) for n in range(10) if n < deadline]
    attempts_stop_before_the_deadline(chain, seen, expected, deadline)
    _require_outcome(
        chain,
        down,
        "then it raises the last FailedAnswer, without waiting",
        lambda o: isinstance(o.error, FailedAnswer) and abs((o.ended or 0.0) - o.asked - expected[-1]) < 1e-9,
        hint="give up at once when the next wait would end past the deadline: re-raise the last error",
    )
    limit = _hang_ends(deadline, attempt_timeout)
    _require_outcome(
        chain,
        hang,
        f"fetch('/items/7') raises TimeoutError {limit:g} s after it was called",
        lambda o: isinstance(o.error, TimeoutError) and abs((o.ended or 0.0) - o.asked - limit) < 1e-6,
        hint="the deadline counts from the start of each fetch call (loop.time() when fetch starts), not from "
        "the client's creation or an earlier call: this second fetch got less time than policy.deadline"
        if (hang.took or 0.0) < limit - 1e-6
        else "an attempt never runs past the deadline: its timeout is min(policy.attempt_timeout, time left)",
    )


def attempts_stop_before_the_deadline(
    chain: Chain, seen: ClientRun[tuple[Outcome, Outcome]], expected: list[float], deadline: float
) -> None:
    origin = service_time(seen.service, seen.value[0].asked)
    made = [time - origin for time in seen.times(DOWN)]
    chain.require(
        [round(time, 9) for time in made] == expected,
        f"fetch('/items/13') attempts at t={_times(expected)} after the call: no wait ends at or past the deadline",
        observed=f"it attempted at t={_times(made)}",
        hint="a wait that ends exactly at the deadline leaves no time for an attempt: give up when "
        "now + wait >= the deadline (`>=`, not `>`)"
        if made[len(expected) :] and abs(made[len(expected)] - deadline) < 1e-9
        else "before each wait, give up if now + wait >= the call's start + policy.deadline "
        "(the deadline counts from the start of fetch; an attempt needs some time left)",
    )


def _hang_ends(deadline: float, attempt_timeout: float, attempts: int = 10) -> float:
    """When a fetch of a request never answered ends: attempts of min(timeout, time left), 1 s waits."""
    now = 0.0
    for made in range(1, attempts + 1):
        now = min(now + attempt_timeout, deadline)
        if made == attempts or now + 1.0 >= deadline:
            return now
        now += 1.0
    return now


@learner_facing
def check_fetch_fast_fail(client_class: ClientClass, *, trip_after: int = 2, start: float = 5.5) -> None:
    """``fetch("/items/13")`` (503, always), 6 attempts, delays of 1 s, through a breaker that opens after
    ``trip_after`` failures (0: open from the start): the attempt the breaker rejects raises
    CircuitOpenError, and fetch raises it at once: no wait, no further attempt."""
    chain = Chain("ResilientClient.fetch")
    scene = Scene(client_class, start, Spies(open=trip_after == 0, trip_after=trip_after or None))
    policy = _retry_policy(attempts=6, delays=delays_of([1.0] * 5))
    seen = scene.run(chain, _fetching(scene, policy, DOWN), start + 30)
    made = len(seen.requests(DOWN))
    chain.require(
        made == trip_after,
        f"{trip_after} attempts reach the service (then the breaker is open)",
        observed=f"{made} attempts reached the service",
        hint="make every attempt through the breaker (breaker.call), so that an open breaker can refuse it",
    )
    _require_outcome(
        chain,
        seen.value,
        "the breaker's CircuitOpenError reaches the caller",
        lambda o: isinstance(o.error, CircuitOpenError),
        hint="do not retry CircuitOpenError, and do not turn it into another error: let it propagate",
    )
    fetch_fails_fast_at_the_first_rejection(chain, seen)


def fetch_fails_fast_at_the_first_rejection(chain: Chain, seen: ClientRun[Outcome]) -> None:
    outcome = seen.value
    rejections = seen.spies.breakers[0].rejections if seen.spies.breakers else []
    chain.require(
        len(rejections) == 1 and rejections[0] == outcome.ended,
        "fetch fails fast: it raises at the instant of the first rejection, and asks the breaker no more",
        observed=f"the breaker rejected {len(rejections)} calls, at "
        f"t={_times(rejections, outcome.asked)} after the call; "
        f"fetch ended at t={(outcome.ended or 0.0) - outcome.asked:g}",
        hint="an open breaker makes retries pointless: catch CircuitOpenError before your retry clause and "
        "re-raise it at once (chapter 7, section 5)",
    )


@learner_facing
def check_fetch_shares_layers(client_class: ClientClass, *, calls: int = 6, start: float = 2.0) -> None:
    """``calls`` fetches one after another, alternating between two hosts (``service.test`` and
    ``mirror.test``): the limiter is made once and admits every request; each host's breaker is made
    once and sees every request to its host."""
    chain = Chain("ResilientClient.fetch")
    scene = Scene(client_class, start)
    urls = [f"/items/{n}" if n % 2 == 0 else f"{MIRROR}/items/{n}" for n in range(calls)]

    async def fetch_each(http: httpx.AsyncClient) -> list[Outcome]:
        client = scene.make(http, _retry_policy())
        return [await timed_call(client.fetch(url)) for url in urls]

    seen = scene.run(chain, fetch_each, start + 10 + calls)
    spies, failed = seen.spies, [outcome for outcome in seen.value if outcome.error is not None]
    chain.require(
        not failed,
        f"all {calls} fetches return their answer",
        observed=f"a fetch {_said(failed[0])}" if failed else "",
        hint="fetch returns the response of a successful attempt",
    )
    chain.require(
        len(spies.limiters) == 1 and len(spies.admissions) == calls,
        f"one limiter admits all {calls} requests",
        observed=f"limiter_factory was called {len(spies.limiters)} times; the limiters admitted "
        f"{len(spies.admissions)} requests",
        hint="use self.limiter, made once in __init__, for every attempt",
    )
    one_breaker_per_host_sees_its_requests(chain, spies, calls)


def one_breaker_per_host_sees_its_requests(chain: Chain, spies: Spies, calls: int) -> None:
    for host, count in (("service.test", (calls + 1) // 2), ("mirror.test", calls // 2)):
        made = spies.of_host(host)
        through = sum(len(breaker.calls) for breaker in made)
        chain.require(
            (len(made) == 1 or count == 0) and through == count,
            f"one breaker for {host!r} sees its {count} requests",
            observed=f"breaker_factory made {len(made)} breakers for {host!r}; {through} calls went through them",
            hint="get the breaker with self.breaker_for(host_of(self.client, url)) (given host_of): one per host, "
            "shared by every call",
        )


# ---------------------------------------------------------------- exercise 3: get (bulkhead, cache, fallback)


@learner_facing
def check_get_bulkhead(
    client_class: ClientClass, *, limit: int = 2, calls: int = 5, start: float = 1.75, cancelled: bool = False
) -> None:
    """``calls`` gets of different items at once, ``max_in_flight=limit``, each answered after 1 s: at most
    ``limit`` requests are in flight at once (exactly ``min(limit, calls)`` at the peak: the bulkhead
    waits, it does not reject), every call gets its 200, and all are done after ``ceil(calls / limit)`` s.
    With ``cancelled``, a get cancelled at each of its waits in turn, and one cancelled while queued behind
    it, with one slot, instead: each gives its slot back (two gets at once afterwards go one at a time)."""
    chain = Chain("ResilientClient.get")
    if cancelled:
        a_cancelled_get_gives_its_slot_back(chain, _sweep_get(chain, client_class, start))
        return
    scene = Scene(client_class, start, service=_service(latency=1.0))
    policy = _retry_policy(attempt_timeout=5.0, max_in_flight=limit)

    async def get_all_at_once(http: httpx.AsyncClient) -> list[Outcome]:
        client = scene.make(http, policy)
        return list(await asyncio.gather(*(timed_call(client.get(f"/items/{n}")) for n in range(calls))))

    seen = scene.run(chain, get_all_at_once, start + 10 + 2 * calls)
    bad = [outcome for outcome in seen.value if not isinstance(outcome.value, httpx.Response)]
    chain.require(
        not bad,
        f"every one of the {calls} calls returns its 200",
        observed=f"a call {_said(bad[0])}" if bad else "",
        hint="the bulkhead makes calls wait for a slot; it never rejects them",
    )
    the_bulkhead_lets_limit_requests_in_flight(chain, seen, limit, calls)
    slots_are_given_back_at_once(chain, seen.value, -(-calls // limit))


def the_bulkhead_lets_limit_requests_in_flight(chain: Chain, seen: ClientRun[Any], limit: int, calls: int) -> None:
    peak = _peak(seen.service.log)
    expected = min(limit, calls)
    chain.require(
        peak <= limit,
        f"at most {limit} requests are in flight at once",
        observed=f"{peak} requests were in flight at once",
        hint="hold a slot of the bulkhead (asyncio.Semaphore(policy.max_in_flight), made once in __init__) "
        "around the fetch: `async with self.bulkhead:`",
    )
    chain.require(
        peak == expected,
        f"{expected} requests are in flight at the peak",
        observed=f"at most {peak} were",
        hint="the bulkhead's size is policy.max_in_flight: let that many calls through at once",
    )


def slots_are_given_back_at_once(chain: Chain, outcomes: list[Outcome], rounds: int) -> None:
    ends = max((outcome.ended or 0.0) - outcome.asked for outcome in outcomes) if outcomes else 0.0
    chain.require(
        abs(ends - rounds) < 1e-6,
        f"the last call is answered {rounds:g} s after the start",
        observed=f"it was answered after {ends:g} s",
        hint="give the slot back as soon as the call is done (`async with`), so the next caller starts at once",
    )


def _peak(log: list[Record]) -> int:
    marks = sorted([(record.time, 1) for record in log] + [(record.ended or 1e18, -1) for record in log])
    count = peak = 0
    for _, change in sorted(marks, key=lambda mark: (mark[0], mark[1])):
        count += change
        peak = max(peak, count)
    return peak


SLOW_GETS_FROM_TTL = 1 / 8  # a cache_ttl over this: the cache scenario also gets a slow answer before and at its expiry


@learner_facing
def check_get_cache(client_class: ClientClass, *, ttl: float = 5.0, start: float = 2.75) -> None:
    """With ``cache_ttl=ttl`` and ``max_in_flight=1``: gets of ``/items/1`` at t = 0, 1 and ``ttl``, and of
    ``/items/2`` at t = 2; two gets of ``/items/13`` (503) with a fallback; one get of ``/items/1`` at
    t = 1.5 while a slow get (``/items/7`` at t = 1.25, never answered, 0.5 s timeout) holds the bulkhead.
    Also ``/items/3`` at t = 0 and ``ttl / 2``, and a 404 page at t = 3 and 3.25. A 2xx answer is served
    from the cache for ``ttl`` seconds from its arrival, without a request and without waiting for the
    bulkhead; a failed call or a 404 is not cached. (``ttl=0``: no cache.)"""
    chain = Chain("ResilientClient.get")
    seen = cache_scenario(chain, client_class, ttl, start)
    if ttl > 1.5:
        a_fresh_answer_is_served_from_the_cache(chain, seen, ttl)
    else:
        a_short_or_no_ttl_requests_each_stale_get(chain, seen, ttl)
    a_short_ttl_still_caches(chain, seen, ttl)
    only_2xx_answers_are_cached(chain, seen)
    if ttl > SLOW_GETS_FROM_TTL:
        the_cache_counts_from_the_answer_s_arrival(chain, seen, ttl)


def cache_scenario(chain: Chain, client_class: ClientClass, ttl: float, start: float) -> ClientRun[dict[str, Outcome]]:
    """``check_get_cache``'s gets on their schedule (its docstring), each get's :class:`Outcome` by name."""
    scene = Scene(client_class, start, service=_service(slow=True))
    policy = _retry_policy(attempts=1, attempt_timeout=0.5, max_in_flight=1, cache_ttl=ttl)
    arrived = SLOW_LATENCY + ttl  # a slow answer's expiry: cache_ttl after it arrived
    slow_gets = [0.0, arrived - 1 / 8, arrived] if ttl > SLOW_GETS_FROM_TTL else []
    schedule = [
        ("first", 0.0, "/items/1"),
        ("slow", 1.25, HANG),
        ("again", 1.5, "/items/1"),
        ("other", 2.0, "/items/2"),
        ("down", 4.5, DOWN),
        ("down again", 4.75, DOWN),
        ("expired", ttl or 5.0, "/items/1"),
        ("soon", 0.0, "/items/3"),
        ("soon again", ttl / 2 if ttl else 0.25, "/items/3"),
        ("missing", 3.0, "/pages/999"),
        ("missing again", 3.25, "/pages/999"),
    ]

    async def get_on_schedule(http: httpx.AsyncClient) -> dict[str, Outcome]:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        client = scene.make(http, policy, fallback=lambda url, error: "fallback")
        seen: dict[str, Outcome] = {}

        async def at(name: str, when: float, url: str) -> None:
            await asyncio.sleep(t0 + when - loop.time())
            seen[name] = await timed_call(client.get(url))

        other = scene.make(http, _retry_policy(attempts=1, attempt_timeout=0.5, max_in_flight=10, cache_ttl=ttl))

        async def slow_at(when: float) -> None:
            await asyncio.sleep(t0 + when - loop.time())
            await other.get(SLOW)

        async with asyncio.TaskGroup() as group:
            for name, when, url in schedule:
                group.create_task(at(name, when, url))
            for when in slow_gets:
                group.create_task(slow_at(when))
        return seen

    return scene.run(chain, get_on_schedule, start + 30 + ttl)


def a_short_or_no_ttl_requests_each_stale_get(chain: Chain, seen: ClientRun[dict[str, Outcome]], ttl: float) -> None:
    """With ``cache_ttl`` of 1.5 s or less, each get of /items/1 (t = 0, ttl, 1.5) is a request."""
    chain.require(
        len(seen.times("/items/1")) == 3,
        "with cache_ttl=0 nothing is cached: each get of /items/1 is a request"
        if not ttl
        else f"each get of /items/1 (t=0, {ttl:g}, 1.5) finds no answer stored less than {ttl:g} s before: "
        "a request each",
        observed=f"/items/1 was requested at t={_times(seen.times('/items/1'))}",
        hint="an entry is fresh while now < stored + cache_ttl; at exactly stored + cache_ttl it is stale"
        if ttl
        else "cache only when policy.cache_ttl > 0",
    )


def a_fresh_answer_is_served_from_the_cache(chain: Chain, seen: ClientRun[dict[str, Outcome]], ttl: float) -> None:
    first, again, expired = seen.value["first"], seen.value["again"], seen.value["expired"]
    ones = seen.times("/items/1")
    chain.require(
        len(ones) >= 1 and ones[0] == 0.0 and (len(ones) < 2 or ones[1] >= ttl),
        f"the get of /items/1 at t=1.5 is served from the cache: no request (the answer of t=0 is {ttl:g} s fresh)",
        observed=f"/items/1 was requested at t={_times(ones)}",
        hint="keep each 2xx response with the time it arrived; return it while loop.time() < stored + cache_ttl",
    )
    chain.require(
        again.value is first.value and again.ended == again.asked,
        "it returns the cached response at once, though the bulkhead is full",
        observed=f"the get at t=1.5 {_said(again)}",
        hint="look in the cache before taking a bulkhead slot: a cache hit needs no slot",
    )
    chain.require(
        len(ones) == 2 and ones[1] == ttl and expired.value is not first.value,
        f"at t={ttl:g} the cached answer has expired: a new request is made",
        observed=f"/items/1 was requested at t={_times(ones)}",
        hint="an entry is fresh while now < stored + cache_ttl; at exactly stored + cache_ttl it is stale",
    )


def the_cache_counts_from_the_answer_s_arrival(chain: Chain, seen: ClientRun[Any], ttl: float) -> None:
    arrived = SLOW_LATENCY + ttl
    made = seen.times(SLOW)
    chain.require(
        made == [0.0, arrived],
        f"an answer that takes {SLOW_LATENCY:g} s (/items/99, asked at t=0) is fresh until t={arrived:g}, "
        f"cache_ttl after it arrived: gets at t={arrived - 1 / 8:g} and {arrived:g} make one request, at {arrived:g}",
        observed=f"/items/99 was requested at t={_times(made)}",
        hint="stamp the cache entry when the response arrived (loop.time() after fetch returned), not when get "
        "was called: a slow answer would expire early"
        if len(made) > 2 or made[1:2] == [arrived - 1 / 8]
        else "an entry is fresh while now < stored + cache_ttl, stored when the response arrived",
    )


def a_short_ttl_still_caches(chain: Chain, seen: ClientRun[dict[str, Outcome]], ttl: float) -> None:
    threes = seen.times("/items/3")
    half = ttl / 2 if ttl else 0.25
    chain.require(
        len(threes) == (1 if ttl else 2),
        f"a get of /items/3 at t={half:g}, {half:g} s after its first, is "
        + ("served from the cache" if ttl else "a request (no cache)"),
        observed=f"/items/3 was requested at t={_times(threes)}",
        hint="an answer is fresh for cache_ttl seconds, however short: compare now with stored + cache_ttl"
        if ttl
        else "cache only when policy.cache_ttl > 0",
    )


def only_2xx_answers_are_cached(chain: Chain, seen: ClientRun[dict[str, Outcome]]) -> None:
    """Another URL, a failed call and a 404 each make a request of their own."""
    other, down_again = seen.value["other"], seen.value["down again"]
    twos = seen.requests("/items/2")
    chain.require(
        len(twos) == 1 and isinstance(other.value, httpx.Response),
        "a get of another URL is a request of its own",
        observed=f"/items/2 was requested {len(twos)} times; the get {_said(other)}",
        hint="key the cache by URL",
    )
    downs = seen.requests(DOWN)
    chain.require(
        len(downs) == 2 and down_again.value == "fallback",
        "a failed call is not cached: two gets of /items/13 make two requests",
        observed=f"/items/13 was requested {len(downs)} times; the second get {_said(down_again)}",
        hint="store only 2xx responses from the service, never a fallback's value",
    )
    missing = seen.requests("/pages/999")
    chain.require(
        len(missing) == 2,
        "a non-2xx answer is not cached: two gets of a 404 page make two requests",
        observed=f"/pages/999 was requested {len(missing)} time(s)",
        hint="store only 2xx responses (response.is_success)",
    )


@dataclass
class FallbackCalls:
    """check_get_fallback's scenario: its four gets, and every call of the fallback (time, url, error); the
    first ``after_ok`` came during the get that succeeded, up to ``after_down`` during the one that failed;
    ``others``: the gets whose fetch raises another Exception (what it is, the get, the fallback's calls)."""

    ok: Outcome
    down: Outcome
    rejected: Outcome
    raised: Outcome
    calls: list[tuple[float, str, BaseException]]
    after_ok: int
    after_down: int
    others: list[tuple[type[BaseException], str, Outcome, list[tuple[float, str, BaseException]]]] = field(
        default_factory=list
    )
    after_rejected: int | None = None


@learner_facing
def check_get_fallback(client_class: ClientClass, *, start: float = 4.25, cancelled: bool = False) -> None:
    """With a fallback that records its arguments, 2 attempts: a get of ``/items/1`` (200) does not call it;
    a get of ``/items/13`` (503) calls ``fallback("/items/13", error)`` with fetch's FailedAnswer once, and
    returns its value; through an open breaker, a get calls it at once with the CircuitOpenError; so do a
    get whose fetch raises TimeoutError (``/items/7``), httpx.ConnectError (``/offline/1``) or another
    Exception (a breaker that raises LookupError). Without a fallback, the error is raised. With
    ``cancelled``, a get cancelled at each of its waits in turn instead: it raises CancelledError, and the
    fallback is not called."""
    if cancelled:
        chain = Chain("ResilientClient.get")
        a_cancelled_get_gets_no_fallback(chain, _sweep_get(chain, client_class, start))
        return
    chain = Chain("ResilientClient.get")
    policy = _retry_policy(attempts=2, delays=delays_of((1.0,)))
    calls: list[tuple[float, str, BaseException]] = []
    scene = Scene(client_class, start)

    def fallback(url: str, error: BaseException) -> str:
        calls.append((asyncio.get_running_loop().time(), url, error))
        return f"fallback for {url}"

    async def get_each_way(http: httpx.AsyncClient) -> FallbackCalls:
        client = scene.make(http, policy, fallback=fallback)
        ok = await timed_call(client.get("/items/1"))
        after_ok = len(calls)
        down = await timed_call(client.get(DOWN))
        after_down = len(calls)
        rejected = await timed_call(scene.make(http, policy, spies=Spies(open=True), fallback=fallback).get(DOWN))
        after_rejected = len(calls)
        others: list[tuple[type[BaseException], str, Outcome, list[tuple[float, str, BaseException]]]] = []
        cases: list[tuple[type[BaseException], str, Spies | None]] = [
            (TimeoutError, HANG, None),
            (httpx.ConnectError, OFFLINE, None),
            (LookupError, "/items/2", Spies(raises=LookupError)),
        ]
        for kind, url, spies in cases:
            before = len(calls)
            got = await timed_call(scene.make(http, policy, spies=spies, fallback=fallback).get(url))
            others.append((kind, url, got, calls[before:]))
        raised = await timed_call(scene.make(http, policy, spies=Spies()).get(DOWN))
        return FallbackCalls(ok, down, rejected, raised, calls, after_ok, after_down, others, after_rejected)

    seen = scene.run(chain, get_each_way, start + 30)
    a_success_does_not_call_the_fallback(chain, seen.value)
    a_failure_calls_the_fallback_once_with_the_error(chain, seen.value)
    an_open_breaker_calls_the_fallback_at_once(chain, seen.value)
    every_exception_goes_to_the_fallback(chain, seen.value)
    _require_outcome(
        chain,
        seen.value.raised,
        "without a fallback, the get raises fetch's error",
        lambda o: isinstance(o.error, FailedAnswer),
        hint="when self.fallback is None, re-raise (`raise`)",
    )


def every_exception_goes_to_the_fallback(chain: Chain, seen: FallbackCalls) -> None:
    wrong = [
        (kind, url, got, called)
        for kind, url, got, called in seen.others
        if not (
            got.value == f"fallback for {url}"
            and len(called) >= 1
            and all(isinstance(error, kind) and where == url for _, where, error in called)
        )
    ]
    chain.require(
        not wrong,
        "a fetch that raises any Exception (TimeoutError, httpx.ConnectError, LookupError from the breaker) gets "
        "the fallback's value, the fallback called with that error",
        observed=lambda: (
            f"the get of {wrong[0][1]} (its fetch raised {wrong[0][0].__name__}) {_said(wrong[0][2])}; "
            "the fallback was called "
            + (", ".join(f"with {describe_error(error)}" for _, _, error in wrong[0][3]) or "never")
        ),
        hint="catch `Exception` around the fetch (`except Exception as error:`), every error it may raise, "
        "not a list of some of them: the fallback answers for any failure",
    )


# ---------------------------------------------------------------- exercises 2 and 3: cancelled calls

SWEPT = "/items/1"  # down for its first attempt, answered on the second
QUEUED = "/items/2"  # a get queued behind the swept one, cancelled while it waits for the bulkhead


@dataclass
class CancelledCall:
    """A call of ``SWEPT`` cancelled ``at`` seconds after it started (its run of the sweep; a get queued
    behind it and cancelled while it waits, the fallback's calls, the requests after the cancellation, two
    gets made afterwards and whether they were answered)."""

    swept: Swept
    at: float
    queued: Outcome | None
    fallback: list[tuple[str, str]]
    late: list[float]
    after: list[Outcome]
    peak_after: int

    @property
    def call(self) -> Outcome:
        return self.swept.outcome

    @property
    def leftover(self) -> list[str]:
        return [task.describe() for task in self.swept.run.leftover]


def _sweep_policy() -> ClientPolicy:
    return _retry_policy(attempts=2, delays=delays_of((0.5,)), attempt_timeout=1.0, max_in_flight=1)


def _swept_scene(client_class: ClientClass, start: float) -> Scene:
    """A limiter taking 0.25 s per admission; answers taking 0.25 s; ``/items/1`` down for its first request."""
    return Scene(client_class, start, Spies(limiter_wait=0.25), _service(latency=0.25, outages=((0.0, 0.4),)))


def _with_the_limiter_s_waits(first: Scene) -> Callable[[VirtualRun[Outcome]], list[float]]:
    """The sweep's instants (:func:`~coursekit.scenario.sweep_instants`, while the call runs) and the
    middle of each wait for the limiter in ``first``'s run, which emit no event."""

    def instants(whole: VirtualRun[Outcome]) -> list[float]:
        call = whole.unwrap()
        end = call.ended or 0.0
        waits = [
            (asked + admitted) / 2
            for limiter in first.spies.limiters
            for asked, admitted in zip(limiter.asked, limiter.admissions, strict=False)
        ]
        kit = sweep_instants(whole, start=call.asked, until=end)
        return sorted({*kit, *(at for at in waits if call.asked <= at < end)})

    return instants


def _cancelled_call(
    swept: Swept,
    run: ClientRun[Outcome],
    other: Outcome | None,
    called: list[tuple[str, str]],
    after: list[Outcome],
) -> CancelledCall:
    """What one cancelled run of the sweep saw: the requests of the swept URL after the cancellation
    reached the service, and the peak of the two gets made afterwards."""
    cut = service_time(run.service, swept.outcome.ended or 0.0)
    return CancelledCall(
        swept,
        swept.at - swept.outcome.asked,
        other,
        called,
        [time for time in run.times(SWEPT) if time > cut + 1e-9],
        after,
        _peak([r for r in run.service.log if r.path in ("/items/3", "/items/4")]),
    )


def _sweep(chain: Chain, client_class: ClientClass, start: float, method: str, *, queued: bool) -> list[CancelledCall]:
    """``client.<method>("/items/1")`` once to the end, then cancelled at each of its waits in turn
    (:func:`~coursekit.scenario.cancellation_sweep`; the limiter's waits too, which emit no event), each
    in a new run (with ``queued``, a get queued behind it is cancelled while it waits); then two gets at
    once, one slot for them."""
    first = _swept_scene(client_class, start)
    seen: dict[float, tuple[ClientRun[Outcome], Outcome | None, list[tuple[str, str]], list[Outcome]]] = {}

    def scenario(at: float) -> VirtualRun[Outcome]:
        if at == UNCANCELLED:

            async def uncancelled(http: httpx.AsyncClient) -> Outcome:
                return await timed_call(getattr(first.make(http, _sweep_policy()), method)(SWEPT))

            whole = first.run(chain, uncancelled, start + 30)
            assert whole.run is not None
            return whole.run
        scene = _swept_scene(client_class, start)
        called: list[tuple[str, str]] = []
        extras: list[Any] = []

        def fallback(url: str, error: BaseException) -> str:
            called.append((url, type(error).__name__))
            return f"fallback for {url}"

        async def cancel_at(http: httpx.AsyncClient) -> Outcome:
            client = scene.make(http, _sweep_policy(), fallback=fallback)
            call = getattr(client, method)
            swept = asyncio.ensure_future(cancelled_at(lambda: call(SWEPT), at))
            waiter = None
            if queued:
                t0 = asyncio.get_running_loop().time()
                await asyncio.sleep(1 / 64)
                waiter = asyncio.ensure_future(cancelled_at(lambda: client.get(QUEUED), t0 + 1 / 32))
            outcome = await swept
            extras.append(await waiter if waiter is not None else None)
            after = [asyncio.ensure_future(timed_call(client.get(f"/items/{n}"))) for n in (3, 4)]
            await asyncio.wait(after, timeout=5.0)
            for task in after:
                task.cancel()
            await asyncio.gather(*after, return_exceptions=True)
            extras.append([task.result() for task in after if not task.cancelled()])
            return outcome

        run = scene.run(chain, cancel_at, start + 60)
        assert run.run is not None
        seen[at] = (run, extras[0], called, extras[1])
        return run.run

    sweep = cancellation_sweep(chain, f"a {method} of {SWEPT}", scenario, instants=_with_the_limiter_s_waits(first))
    return [_cancelled_call(swept, *seen[swept.at]) for swept in sweep]


def _sweep_get(chain: Chain, client_class: ClientClass, start: float) -> list[CancelledCall]:
    return _sweep(chain, client_class, start, "get", queued=True)


def a_cancelled_get_gets_no_fallback(chain: Chain, sweep: list[CancelledCall]) -> None:
    hint = (
        "a cancelled get raises CancelledError: catch `Exception` (CancelledError is a BaseException), "
        "never BaseException or a bare except; the fallback answers failures, not a caller who left"
    )
    ends_cancelled_at_each_wait(chain, f"a get of {SWEPT}", [cut.swept for cut in sweep], hint=hint)
    for cut in sweep:
        mine = [(url, kind) for url, kind in cut.fallback if url in (SWEPT, QUEUED)]
        chain.require(
            not mine,
            f"a get of {SWEPT} cancelled {cut.at:g} s after it started calls no fallback",
            observed="the fallback was called " + ", ".join(f"for {url} with {kind}" for url, kind in mine),
            hint=hint,
        )
    nothing_is_left_running(chain, sweep, "get")


def nothing_is_left_running(chain: Chain, sweep: list[CancelledCall], method: str) -> None:
    for cut in sweep:
        chain.require(
            not cut.leftover,
            f"a {method} cancelled {cut.at:g} s after it started leaves no task running",
            observed="; ".join(cut.leftover),
            hint="let the cancellation reach the request: no asyncio.shield, no task of its own that outlives the call",
        )


def a_cancelled_fetch_stops(chain: Chain, sweep: list[CancelledCall]) -> None:
    hint = (
        "let CancelledError through: retry only FailedAnswer, TimeoutError and httpx.TransportError "
        "(never `except BaseException` or a bare except), so a caller who left stops the retries"
    )
    ends_cancelled_at_each_wait(chain, f"a fetch of {SWEPT}", [cut.swept for cut in sweep], hint=hint)
    for cut in sweep:
        chain.require(
            not cut.late,
            f"a fetch of {SWEPT} cancelled {cut.at:g} s after it started sends no request after",
            observed=f"{SWEPT} was requested at t={_times(cut.late)} after the cancellation",
            hint=hint,
        )
    nothing_is_left_running(chain, sweep, "fetch")


def a_cancelled_get_gives_its_slot_back(chain: Chain, sweep: list[CancelledCall]) -> None:
    for cut in sweep:
        queued = cut.queued
        chain.require(
            queued is None or queued.cancelled,
            f"(the get of {SWEPT} cancelled at {cut.at:g} s) a get queued behind it for the one slot, cancelled "
            "while it waits, raises CancelledError",
            observed=f"it {_said(queued)}" if queued else "",
            hint="wait for the slot with `async with self.bulkhead:` and let CancelledError through",
        )
        answered = [o for o in cut.after if _is_response(o.value, 200)]
        chain.require(
            len(answered) == 2 and cut.peak_after <= 1,
            f"after a get cancelled {cut.at:g} s after it started (and one cancelled while queued), two gets at "
            "once are both answered, one at a time (max_in_flight=1)",
            observed=f"{len(answered)} of them were answered within 5 s; {cut.peak_after} requests were in flight "
            "at once",
            hint="give the slot back exactly once, however the call ends, and only a slot the call holds: "
            "`async with self.bulkhead:` (a release in a finally around the acquire frees a slot a cancelled "
            "waiter never had)"
            if cut.peak_after > 1
            else "give the slot back however the call ends, cancelled too: `async with self.bulkhead:` (or "
            "release in a finally)",
        )
    nothing_is_left_running(chain, sweep, "get")


def a_success_does_not_call_the_fallback(chain: Chain, seen: FallbackCalls) -> None:
    ok, called = seen.ok, seen.after_ok
    chain.require(
        ok.error is None and _is_response(ok.value, 200) and not called,
        "a call that succeeds returns the response and does not call the fallback",
        observed=f"the get of /items/1 {_said(ok)}; the fallback was called {called} times",
        hint="call the fallback only when fetch raises",
    )


def a_failure_calls_the_fallback_once_with_the_error(chain: Chain, seen: FallbackCalls) -> None:
    first = seen.calls[seen.after_ok : seen.after_down]
    chain.require(
        len(first) == 1
        and first[0][1] == DOWN
        and isinstance(first[0][2], FailedAnswer)
        and seen.down.value == f"fallback for {DOWN}",
        "a call that fails calls fallback(url, error) once, with fetch's error, and returns its value",
        observed=f"the get {_said(seen.down)}; the fallback was called "
        + (", ".join(f"({url!r}, {describe_error(error)})" for _, url, error in first) or "never"),
        hint="`except Exception as error: return self.fallback(url, error)` around the fetch",
    )


def an_open_breaker_calls_the_fallback_at_once(chain: Chain, seen: FallbackCalls) -> None:
    second, rejected = seen.calls[seen.after_down : seen.after_rejected], seen.rejected
    chain.require(
        len(second) == 1 and isinstance(second[0][2], CircuitOpenError) and rejected.ended == rejected.asked,
        "through an open breaker, the fallback is called at once with the CircuitOpenError",
        observed=f"the get {_said(rejected)}; the fallback was called "
        + (", ".join(f"with {describe_error(error)}" for _, _, error in second) or "never"),
        hint="a rejection is an error like the others for the fallback; fetch passes it on at once",
    )


# ---------------------------------------------------------------- exercise 4: the crawler's frontier


@learner_facing
def check_admit_links(admit_links: AdmitLinks, *, max_depth: int = 2, max_pages: int = 5) -> None:
    """Four calls on one ``depths`` (``{"/pages/0": 0}`` at first): the links of page 0 at depth 1 (one
    repeated, one back to page 0), then more at depth 2 (one seen at depth 1), then at depth 3, and an
    empty list. What each returns and what ``depths`` holds after it are compared with the statement."""
    chain = Chain("admit_links")
    depths: dict[str, int] = {"/pages/0": 0}
    expected_depths = dict(depths)
    calls = [
        (["/pages/1", "/pages/2", "/pages/1", "/pages/0"], 1),
        (["/pages/3", "/pages/2", "/pages/4", "/pages/5"], 2),
        (["/pages/6"], 3),
        ([], 1),
    ]
    for links, depth in calls:
        expected = _admitted(links, depth, expected_depths, max_depth=max_depth, max_pages=max_pages)
        before = dict(depths)
        what = f"admit_links({links!r}, {depth}, depths, max_depth={max_depth}, max_pages={max_pages})"

        def call(links: list[str] = links, depth: int = depth) -> list[str]:
            return admit_links(list(links), depth, depths, max_depth=max_depth, max_pages=max_pages)

        got = chain.require_returns(what, call, hint="try it on a list of two links in a cell of its own")
        chain.require(
            list(got) == expected if isinstance(got, list) else False,
            f"{what}, with depths={before!r}, returns {expected!r}",
            observed=f"it returned {got!r}",
            hint="leave out a link already in depths or earlier in the list (no page twice), every link when "
            "depth > max_depth, and every link once depths holds max_pages URLs; keep the order of links",
        )
        chain.require(
            depths == expected_depths,
            f"after it, depths == {expected_depths!r}",
            observed=f"depths is {depths!r}",
            hint="record each admitted link: depths[link] = depth (and nothing else)",
        )


def _admitted(links: list[str], depth: int, depths: dict[str, int], *, max_depth: int, max_pages: int) -> list[str]:
    """The statement's admit_links: the links it admits, recorded in ``depths``."""
    admitted: list[str] = []
    if depth <= max_depth:
        for link in links:
            if len(depths) < max_pages and link not in depths:
                depths[link] = depth
                admitted.append(link)
    return admitted
