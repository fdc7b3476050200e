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
from coursekit.scenario import Outcome, require_class, timed_call
from coursekit.service import Faults, Latency, RateLimit, Record, Service
from coursekit.virtual_time import VirtualRun, run_virtual

T = TypeVar("T")

HANG = "/items/7"  # never answered
DOWN = "/items/13"  # 503, always
BUSY = "/items/42"  # 429 past one request per window
MIRROR = "http://mirror.test"  # a second host: the in-process transport serves every host


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
    limiters: list[SpyLimiter] = field(default_factory=list)
    breakers: list[SpyBreaker] = field(default_factory=list)

    def limiter_factory(self) -> SpyLimiter:
        self.limiters.append(SpyLimiter(self.limiter_wait))
        return self.limiters[-1]

    def breaker_factory(self, host: str) -> SpyBreaker:
        self.breakers.append(SpyBreaker(host, open=self.open, trip_after=self.trip_after))
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

    def requests(self, path: str | None = None) -> list[Record]:
        """The requests the service saw (of ``path``)."""
        return [record for record in self.service.log if path is None or record.path == path]

    def times(self, path: str) -> list[float]:
        """When the requests of ``path`` reached the service, on its clock."""
        return [record.time for record in self.requests(path)]


def _service(*, latency: float = 0.0, outages: tuple[tuple[float, float], ...] = (), window: float = 5.0) -> Service:
    """The service for a scenario: ``latency`` per answer, ``/items/1`` down during ``outages``, ``/items/7``
    hangs, ``/items/13`` is down, ``/items/42`` answers one request per ``window`` seconds (429 with
    Retry-After past it)."""
    fixed = Latency.fixed(latency)
    return Service(
        seed=5,
        faults=Faults(latency=fixed),
        endpoints={
            "/items/1": Faults(latency=fixed, outages=outages),
            HANG: Faults(hang_rate=1.0),
            DOWN: Faults(latency=fixed, outages=((0.0, 1e9),)),
            BUSY: Faults(latency=fixed, rate_limit=RateLimit(1, window)),
        },
    )


@dataclass
class Scene:
    """A scenario's setting: the learner's class, when the scenario starts (loop clock), the spies given to
    the client and the service it talks to."""

    client_class: ClientClass
    start: float
    spies: Spies = field(default_factory=Spies)
    service: Service = field(default_factory=_service)

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

        async def main() -> T:
            await asyncio.sleep(self.start)
            async with self.service.client() as http:
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
        return ClientRun(self.spies, self.service, run.unwrap())


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
    client_class: ClientClass, *, timeout: float = 1.5, limiter_wait: float = 0.0, start: float = 2.5
) -> None:
    """``attempt(url, timeout)`` once each for: a 200, a 404, a 503 (``/items/13``), a 429 (``/items/42``,
    its second request), and a request never answered (``/items/7``). Each takes one admission from
    ``self.limiter`` (taking ``limiter_wait`` seconds) before its request."""
    chain = Chain("ResilientClient.attempt")
    scene = Scene(client_class, start, Spies(limiter_wait=limiter_wait), _service(latency=0.25))
    urls = ["/items/1", "/pages/999", DOWN, BUSY, BUSY, HANG]

    async def attempts(http: httpx.AsyncClient) -> list[Outcome]:
        client = scene.make(http, ClientPolicy(attempt_timeout=timeout))
        return [await timed_call(client.attempt(url, timeout)) for url in urls]

    deadline = start + 10 * (timeout + limiter_wait + 1)
    seen = scene.run(chain, attempts, deadline)
    ok, missing, down, _, busy, hang = seen.value
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
        down_until = planned[failures - 1] + 0.25 if failures else 0.0
        return cls(planned[:count], count, succeeds, min(failures, len(delays), attempts - 1), down_until)


@learner_facing
def check_fetch_retries(
    client_class: ClientClass,
    *,
    failures: int = 2,
    attempts: int = 4,
    delays: tuple[float, ...] = (0.5, 1.0, 2.0),
    start: float = 4.75,
) -> None:
    """``fetch("/items/1")`` while it is down for its first ``failures`` attempts (503 at once):
    an attempt every time the next delay has passed, each through the host's breaker, until the 200,
    which is returned; if every attempt fails, the last FailedAnswer is raised. First, ``fetch`` of a
    404 page: one attempt, the 404 returned."""
    chain = Chain("ResilientClient.fetch")
    plan = RetryPlan.of(failures, attempts, delays)
    scene = Scene(client_class, start, service=_service(outages=((0.0, plan.down_until),) if failures else ()))
    policy = _retry_policy(attempts=attempts, delays=delays_of(delays))

    async def fetch_twice(http: httpx.AsyncClient) -> tuple[Outcome, Outcome]:
        client = scene.make(http, policy)
        outcome = await timed_call(client.fetch("/items/1"))
        return outcome, await timed_call(client.fetch("/pages/999"))

    deadline = start + 10 + sum(delays) * 2
    seen = scene.run(chain, fetch_twice, deadline)
    the_attempts_reach_the_service_after_each_delay(chain, seen, plan, delays)
    fetch_returns_the_200_or_raises_the_last_failed_answer(chain, seen, plan)
    every_attempt_goes_through_the_host_breaker(chain, seen, plan.count + 1)
    _require_outcome(
        chain,
        seen.value[1],
        "fetch of a 404 page returns the 404 after one attempt",
        lambda o: _is_response(o.value, 404) and len(seen.requests("/pages/999")) == 1,
        hint="a 4xx other than 429 is an answer: return it, never retry it",
    )


def the_attempts_reach_the_service_after_each_delay(
    chain: Chain, seen: ClientRun[Any], plan: RetryPlan, delays: tuple[float, ...]
) -> None:
    made = seen.times("/items/1")
    chain.require(
        made == plan.expected,
        f"the attempts reach the service at t={_times(plan.expected)} after the call "
        f"({plan.count} attempts: delays {_times(list(delays))})",
        observed=f"they reached it at t={_times(made)}",
        hint="retry a FailedAnswer after the next of self.policy.delays() (a fresh iterator per call), "
        "at most policy.attempts attempts in all; stop when the delays run out"
        if len(made) != plan.count
        else "wait exactly the next delay between attempts (asyncio.sleep), nothing more",
    )


def fetch_returns_the_200_or_raises_the_last_failed_answer(
    chain: Chain, seen: ClientRun[tuple[Outcome, Outcome]], plan: RetryPlan
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
    last = breaker.failures[-1][1] if breaker and breaker.failures else None
    _require_outcome(
        chain,
        outcome,
        "when every attempt failed, fetch raises the last FailedAnswer (the same error object)",
        lambda o: isinstance(o.error, FailedAnswer) and (last is None or o.error is last),
        hint="give up by re-raising the last error (`raise` inside its except), not a new one",
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
    client_class: ClientClass, *, window: float = 4.0, deadline: float | None = None, start: float = 2.25
) -> None:
    """``/items/42`` answers one request per ``window`` seconds (429 with ``Retry-After`` past it). The
    check takes the window's one request itself, half a second in; then ``fetch("/items/42")``: the
    429's Retry-After (seconds to the next window, rounded up) replaces the 0.1 s backoff delay, and the
    second attempt gets the 200. With a ``deadline`` shorter than the Retry-After, fetch gives up at
    once and raises the FailedAnswer of the 429."""
    chain = Chain("ResilientClient.fetch")
    scene = Scene(client_class, start, service=_service(window=window))
    policy = _retry_policy(attempts=3, delays=delays_of((0.1, 0.1)), deadline=deadline)
    asked = float(max(1, -(-(window - 0.5) // 1)))

    async def fetch_when_busy(http: httpx.AsyncClient) -> Outcome:
        await asyncio.sleep(0.5)
        await http.get(BUSY)  # the window's one request
        client = scene.make(http, policy)
        return await timed_call(client.fetch(BUSY))

    seen = scene.run(chain, fetch_when_busy, start + 4 * window + 10)
    gives_up = deadline is not None and asked >= deadline
    the_second_attempt_waits_the_retry_after(chain, seen, asked, deadline if gives_up else None)
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


def the_second_attempt_waits_the_retry_after(
    chain: Chain, seen: ClientRun[Outcome], asked: float, short_deadline: float | None
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
        hint="when a FailedAnswer's response has a Retry-After (retry_after_seconds(error.response), given), "
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
    breaker counts it as a failure); it is retried; after ``attempts`` attempts fetch raises TimeoutError."""
    chain = Chain("ResilientClient.fetch")
    scene = Scene(client_class, start)
    policy = _retry_policy(attempt_timeout=timeout, attempts=attempts, delays=delays_of([1.0] * attempts))
    seen = scene.run(chain, _fetching(scene, policy, HANG), start + attempts * (timeout + 2) + 10)
    outcome = seen.value
    failures = (seen.spies.breakers[0] if seen.spies.breakers else SpyBreaker("none")).failures
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
    attempts_stop_before_the_deadline(chain, seen, expected)
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
        hint="an attempt never runs past the deadline: its timeout is min(policy.attempt_timeout, time left)",
    )


def attempts_stop_before_the_deadline(
    chain: Chain, seen: ClientRun[tuple[Outcome, Outcome]], expected: list[float]
) -> None:
    origin = service_time(seen.service, seen.value[0].asked)
    made = [time - origin for time in seen.times(DOWN)]
    chain.require(
        [round(time, 9) for time in made] == expected,
        f"fetch('/items/13') attempts at t={_times(expected)} after the call: no wait ends at or past the deadline",
        observed=f"it attempted at t={_times(made)}",
        hint="before each wait, give up if now + wait >= the call's start + policy.deadline "
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
def check_get_bulkhead(client_class: ClientClass, *, limit: int = 2, calls: int = 5, start: float = 1.75) -> None:
    """``calls`` gets of different items at once, ``max_in_flight=limit``, each answered after 1 s: at most
    ``limit`` requests are in flight at once (exactly ``min(limit, calls)`` at the peak: the bulkhead
    waits, it does not reject), every call gets its 200, and all are done after ``ceil(calls / limit)`` s."""
    chain = Chain("ResilientClient.get")
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


@learner_facing
def check_get_cache(client_class: ClientClass, *, ttl: float = 5.0, start: float = 2.75) -> None:
    """With ``cache_ttl=ttl`` and ``max_in_flight=1``: gets of ``/items/1`` at t = 0, 1 and ``ttl``, and of
    ``/items/2`` at t = 2; two gets of ``/items/13`` (503) with a fallback; one get of ``/items/1`` at
    t = 1.5 while a slow get (``/items/7`` at t = 1.25, never answered, 0.5 s timeout) holds the bulkhead.
    Also ``/items/3`` at t = 0 and ``ttl / 2``, and a 404 page at t = 3 and 3.25. A 2xx answer is served
    from the cache for ``ttl`` seconds from its arrival, without a request and without waiting for the
    bulkhead; a failed call or a 404 is not cached. (``ttl=0``: no cache.)"""
    chain = Chain("ResilientClient.get")
    scene = Scene(client_class, start)
    policy = _retry_policy(attempts=1, attempt_timeout=0.5, max_in_flight=1, cache_ttl=ttl)
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

        async with asyncio.TaskGroup() as group:
            for name, when, url in schedule:
                group.create_task(at(name, when, url))
        return seen

    seen = scene.run(chain, get_on_schedule, start + 30 + ttl)
    if ttl > 1.5:
        a_fresh_answer_is_served_from_the_cache(chain, seen, ttl)
    else:
        chain.require(
            len(seen.times("/items/1")) == 3,
            "with cache_ttl=0 nothing is cached: each get of /items/1 is a request"
            if not ttl
            else f"each get of /items/1 (t=0, {ttl:g}, 1.5) finds no answer stored less than {ttl:g} s before: "
            "a request each",
            observed=f"/items/1 was requested at t={_times(seen.times('/items/1'))}",
            hint="cache only when policy.cache_ttl > 0",
        )
    a_short_ttl_still_caches(chain, seen, ttl)
    only_2xx_answers_are_cached(chain, seen)


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
    first ``after_ok`` came during the get that succeeded, up to ``after_down`` during the one that failed."""

    ok: Outcome
    down: Outcome
    rejected: Outcome
    raised: Outcome
    calls: list[tuple[float, str, BaseException]]
    after_ok: int
    after_down: int


@learner_facing
def check_get_fallback(client_class: ClientClass, *, start: float = 4.25) -> None:
    """With a fallback that records its arguments, 2 attempts: a get of ``/items/1`` (200) does not call it;
    a get of ``/items/13`` (503) calls ``fallback("/items/13", error)`` with fetch's FailedAnswer once, and
    returns its value; through an open breaker, a get calls it at once with the CircuitOpenError. Without a
    fallback, the error is raised."""
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
        raised = await timed_call(scene.make(http, policy, spies=Spies()).get(DOWN))
        return FallbackCalls(ok, down, rejected, raised, calls, after_ok, after_down)

    seen = scene.run(chain, get_each_way, start + 30)
    a_success_does_not_call_the_fallback(chain, seen.value)
    a_failure_calls_the_fallback_once_with_the_error(chain, seen.value)
    an_open_breaker_calls_the_fallback_at_once(chain, seen.value)
    _require_outcome(
        chain,
        seen.value.raised,
        "without a fallback, the get raises fetch's error",
        lambda o: isinstance(o.error, FailedAnswer),
        hint="when self.fallback is None, re-raise (`raise`)",
    )


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
    second, rejected = seen.calls[seen.after_down :], seen.rejected
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
