"""Chapter 10 probes: ``ResilientClient`` on random scenarios, ``admit_links`` on random link lists.

Every scenario runs on the virtual clock from a random ``start``, against the course's
service in-process (the checks' ``_service``: ``/items/7`` hangs, ``/items/13`` is down,
``/items/42`` answers one request per window), with the checks' instrumented collaborators
(:class:`Spies`: a limiter that records its admissions, breakers that record their calls
and failures and can reject). Times are multiples of 1/64 s, exact in floating point, and
observed in seconds after ``start``. Where the statement leaves an order free (which
waiting call the bulkhead lets in next), only what does not depend on it is observed.

A caller that cancels a call does it half-way between two 1/64 s ticks (``_inside``), where
nothing else happens: never at the instant a wait ends (Python 3.11's ``wait_for`` loses a
cancellation that ties with its own wake-up), so a correct design ends cancelled whatever it
waits with. What the checks' transport adds (``/status/NNN`` answered NNN, a path refused
with ``httpx.ConnectError`` its first times, a path answered from a script) comes through
:class:`CheckTransport`, around the same service.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from coursekit.chapters.resilient_client.checks import (
    BUSY,
    DOWN,
    HANG,
    MIRROR,
    SCRIPTED,
    STATUS,
    CheckTransport,
    Spies,
    _peak,
    _service,
)
from coursekit.chapters.resilient_client.given import ClientPolicy, FailedAnswer, delays_of
from coursekit.probing import Probe, outcome
from coursekit.scenario import Outcome, cancelled_at, timed_call
from coursekit.service import BASE_URL, Faults, Latency, Service
from coursekit.virtual_time import run_virtual

# Items the checks' service answers at once with a 200: not /items/1*, /items/7* (hangs), /items/42* (limited).
ITEMS = [f"/items/{n}" for n in range(2, 100) if not str(n).startswith(("1", "7", "42"))]
MISSING = "/pages/999"  # a 404
HOSTS = ("", MIRROR, "http://other.test")  # the in-process transport serves every host
REFUSED = "/items/200"  # a 200, once the checks' transport stops refusing it (not in ITEMS)
TICK = 1 / 64


# ---------------------------------------------------------------- running and describing


def run_client(
    scenario: dict[str, Any],
    service: Service,
    script: Callable[[httpx.AsyncClient], Awaitable[Any]],
    transport: CheckTransport | None = None,
) -> Any:
    """``script(http)`` on the virtual clock, from ``start``, with a client of ``service`` (through
    ``transport``, the checks' transport around it, when given); its outcome."""

    async def main() -> Any:
        await asyncio.sleep(scenario["start"])
        if transport is None:
            http = service.client()
        else:
            service.start()
            http = httpx.AsyncClient(transport=transport, base_url=BASE_URL)
        async with http:
            return await script(http)

    return outcome(run_virtual(main, deadline=scenario["start"] + 120, wall_limit=2.0))


def make(
    names: Mapping[str, Any], http: httpx.AsyncClient, policy: ClientPolicy, spies: Spies, fallback: Any = None
) -> Any:
    return names["ResilientClient"](
        http, policy, breaker_factory=spies.breaker_factory, limiter_factory=spies.limiter_factory, fallback=fallback
    )


def policy_of(scenario: dict[str, Any], **settings: Any) -> ClientPolicy:
    """The scenario's policy: its ``attempt_timeout``, ``attempts``, ``delays``, ``deadline`` (None when absent)."""
    given: dict[str, Any] = {"deadline": None, "delays": delays_of(scenario.get("delays", ()))}
    given.update({key: scenario[key] for key in ("attempt_timeout", "attempts", "deadline") if key in scenario})
    return ClientPolicy(**{**given, **settings})


def result(value: Any, error: BaseException | None) -> Any:
    """A response as its status and path; an error as its type (and a FailedAnswer's status); else the value."""
    if error is not None:
        response = getattr(error, "response", None)
        if isinstance(error, FailedAnswer) and isinstance(response, httpx.Response):
            return {"raised": type(error).__name__, "status": response.status_code}
        return {"raised": type(error).__name__}
    if isinstance(value, httpx.Response):
        return {"status": value.status_code, "path": value.request.url.path}
    return value if value is None or isinstance(value, str | int | float) else {"value": type(value).__name__}


def timed(call: Outcome, origin: float) -> dict[str, Any]:
    """What a call gave, and when it ended."""
    return {"result": result(call.value, call.error), "ended": (call.ended or 0.0) - origin}


def failure_index(spies: Spies, error: BaseException | None) -> int | None:
    """Which failure seen by the breakers ``error`` is (the same object), if any: fetch re-raises the last."""
    seen = [failure for breaker in spies.breakers for _, failure in breaker.failures]
    return next((i for i, failure in enumerate(seen) if failure is error), None)


def answer_index(spies: Spies, error: BaseException) -> int | None:
    """Which failed answer seen by the breakers ``error`` is (the same object), if it is one."""
    seen = [failure for breaker in spies.breakers for _, failure in breaker.failures]
    return index_of([failure for failure in seen if isinstance(failure, FailedAnswer)], error)


def requests(service: Service, path: str | None = None) -> list[list[Any]]:
    """The requests the service saw (of ``path``): path, arrival time and status."""
    return [[r.path, r.time, r.status] for r in service.log if path is None or r.path == path]


def index_of(items: list[Any], item: Any) -> int | None:
    return next((i for i, candidate in enumerate(items) if candidate is item), None)


def _start(rng: random.Random) -> float:
    return rng.choice([0.0, rng.randint(1, 120) / 4])


def _delays(rng: random.Random, count: int) -> list[float]:
    return [rng.randint(1, 16) / 8 for _ in range(count)]


def _inside(rng: random.Random, low: float, high: float) -> float:
    """An instant strictly inside (low, high) (multiples of 1/64 s, ``low < high``), half-way between two
    ticks: no wait begins or ends then."""
    return low + (2 * rng.randrange(round((high - low) / TICK)) + 1) * TICK / 2


def _cancel_in(rng: random.Random, phases: list[tuple[float, float]]) -> float:
    """A cancellation instant inside one of ``phases`` (the waits of a call: (begins, ends)) at random."""
    low, high = rng.choice([(low, high) for low, high in phases if high > low])
    return _inside(rng, low, high)


async def cancelled_after(call: Callable[[], Awaitable[Any]], at: float) -> Any:
    """``call()`` in a task of its own, cancelled ``at`` seconds after it started (if it has not ended by
    then): "cancelled" when it ended so, else what it gave instead (:func:`result`)."""
    ended = await cancelled_at(call, asyncio.get_running_loop().time() + at)
    return "cancelled" if ended.cancelled else result(ended.value, ended.error)


# ---------------------------------------------------------------- exercise 1: made once, shared


def draw_limiter(rng: random.Random) -> dict[str, Any]:
    return {"start": _start(rng), "clients": rng.randint(1, 4), "max_in_flight": rng.randint(1, 10)}


def observe_limiter(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """Clients made one after another: limiter_factory() calls while each is made, which limiter it keeps,
    breakers made, requests sent."""
    spies, service = Spies(), _service()

    async def script(http: httpx.AsyncClient) -> Any:
        made = []
        for _ in range(scenario["clients"]):
            before = len(spies.limiters)
            client = make(names, http, ClientPolicy(max_in_flight=scenario["max_in_flight"]), spies)
            made.append([len(spies.limiters) - before, index_of(spies.limiters, getattr(client, "limiter", None))])
        return {"made": made, "breakers": [breaker.name for breaker in spies.breakers], "requests": len(service.log)}

    return run_client(scenario, service, script)


def draw_breakers(rng: random.Random) -> dict[str, Any]:
    hosts = ["service.test", "mirror.test", f"h{rng.randrange(1000)}.test"]
    asks = [[rng.randrange(2), rng.choice(hosts)] for _ in range(rng.randint(0, 9))]
    return {"start": _start(rng), "asks": asks}


def observe_breakers(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """Two clients asked ``breaker_for(host)`` in turn: which breaker made by the factory each answer is,
    and the hosts the factory was called for."""
    spies = Spies()

    async def script(http: httpx.AsyncClient) -> Any:
        clients = [make(names, http, ClientPolicy(), spies) for _ in range(2)]
        given = [index_of(spies.breakers, clients[c].breaker_for(host)) for c, host in scenario["asks"]]
        return {"given": given, "made": [breaker.name for breaker in spies.breakers]}

    return run_client(scenario, _service(), script)


# ---------------------------------------------------------------- exercise 2: attempt and fetch


def draw_attempt(rng: random.Random) -> dict[str, Any]:
    """Attempts at 200s, a 404, a 503, the rate-limited item (a 200, then 429s), a hang, and statuses
    answered at once (``/status/NNN``): one or two from 200 to 599, and a 408 in a third of the draws; in
    random order."""
    statuses = [rng.randrange(200, 600) for _ in range(rng.randint(1, 2))] + [408] * (rng.random() < 1 / 3)
    urls = [rng.choice(ITEMS), MISSING, DOWN, BUSY, BUSY, HANG, *(f"{STATUS}{status}" for status in statuses)]
    rng.shuffle(urls)
    return {
        "start": _start(rng),
        "timeout": rng.randint(2, 24) / 8,
        "limiter_wait": rng.choice([0.0, rng.randint(1, 8) / 8, rng.randint(1, 8) / 8]),
        "latency": rng.randint(0, 8) / 64,
        "window": rng.randint(4, 40) / 4,
        "urls": urls,
    }


def observe_attempt(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """``attempt(url, timeout)`` for each URL in turn (the limiter takes ``limiter_wait`` per admission):
    what each gives and when it ends, the admissions, and the requests the service saw (a status is
    answered by the checks' transport: not a request of the service)."""
    spies = Spies(limiter_wait=scenario["limiter_wait"])
    service = _service(latency=scenario["latency"], window=scenario["window"])

    async def script(http: httpx.AsyncClient) -> Any:
        origin = asyncio.get_running_loop().time()
        client = make(names, http, ClientPolicy(attempt_timeout=scenario["timeout"]), spies)
        calls = [timed(await timed_call(client.attempt(url, scenario["timeout"])), origin) for url in scenario["urls"]]
        return {"calls": calls, "admissions": [t - origin for t in spies.admissions], "requests": requests(service)}

    return run_client(scenario, service, script, CheckTransport(service))


def draw_retries(rng: random.Random) -> dict[str, Any]:
    """A fetch of an item that fails at random (seeded 500s and 503s), and one of the 503, with random
    attempts and delays (sometimes more than the attempts need); then fetches spread over three hosts,
    through one client; then a fetch of an item whose first ``refused`` requests raise httpx.ConnectError
    (as many as the attempts, sometimes: it gives up). In two draws out of five, ``cancel``: a fetch of
    an item that always fails, cancelled in one of its waits (:func:`draw_cancelled_fetch`)."""
    attempts = rng.randint(1, 5)
    scenario = {
        "start": _start(rng),
        "seed": rng.randrange(10**6),
        "error_rate": rng.choice([0.0, 0.5, 0.8, 1.0, 1.0]),
        "latency": rng.randint(0, 16) / 64,
        "attempt_timeout": 1.0,
        "attempts": attempts,
        "delays": _delays(rng, rng.choice([attempts - 1, attempts, rng.randint(0, 4)])),
        "shared": [rng.choice(HOSTS) + rng.choice(ITEMS) for _ in range(rng.randint(1, 4))],
        "refused": rng.randint(1, attempts),
    }
    if rng.random() < 0.4:
        scenario["cancel"] = draw_cancelled_fetch(rng)
    return scenario


def draw_cancelled_fetch(rng: random.Random) -> dict[str, Any]:
    """A fetch of an item that always fails (a 500 or 503 after ``latency``; the limiter takes
    ``limiter_wait`` per admission), cancelled ``at`` seconds after it started: in a wait for the limiter,
    a request, or a retry's sleep."""
    latency, wait = rng.randint(1, 16) / 64, rng.choice([0.0, rng.randint(1, 8) / 64])
    attempts = rng.randint(2, 4)
    delays = _delays(rng, attempts - 1)
    phases, begins = [], 0.0  # the fetch's waits, (begins, ends), seconds after it started
    for number in range(attempts):
        phases += [(begins, begins + wait), (begins + wait, begins + wait + latency)]
        begins += wait + latency
        if number < len(delays):
            phases.append((begins, begins + delays[number]))
            begins += delays[number]
    at = _cancel_in(rng, phases)
    return {"latency": latency, "limiter_wait": wait, "attempts": attempts, "delays": delays, "at": at}


def observe_retries(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """``fetch`` of the failing item: what it gives and when, which failure it raised, the requests and
    the calls through each breaker; the same for the 503 (down for good); a fetch of a 404; then, through
    a new client, ``fetch`` of each ``shared`` URL: the limiters made, their admissions, and the calls
    through each host's breakers."""
    faults = Faults(latency=Latency.fixed(scenario["latency"]))
    flaky = Faults(latency=Latency.fixed(scenario["latency"]), error_rate=scenario["error_rate"])
    down = Faults(outages=((0.0, 1e9),))
    service = Service(seed=scenario["seed"], faults=faults, endpoints={"/items/1": flaky, DOWN: down})
    transport = CheckTransport(service, refused={REFUSED: scenario["refused"]})
    spies, shared, refusing = Spies(), Spies(), Spies()

    async def script(http: httpx.AsyncClient) -> Any:
        origin = asyncio.get_running_loop().time()
        client = make(names, http, policy_of(scenario), spies)
        fetched = await timed_call(client.fetch("/items/1"))
        breakers = [[breaker.name, len(breaker.calls)] for breaker in spies.breakers]
        down = await timed_call(client.fetch(DOWN))
        missing = await timed_call(client.fetch(MISSING))
        other = make(names, http, policy_of(scenario, attempts=1), shared)
        results = [result(o.value, o.error) for o in [await timed_call(other.fetch(url)) for url in scenario["shared"]]]
        refused = await timed_call(make(names, http, policy_of(scenario), refusing).fetch(REFUSED))
        return {
            "fetch": {**timed(fetched, origin), "failure": failure_index(spies, fetched.error)},
            "requests": requests(service, "/items/1"),
            "breakers": breakers,
            "down": {**timed(down, down.asked), "failure": failure_index(spies, down.error)},
            "down_requests": [time - (down.asked - origin) for _, time, _ in requests(service, DOWN)],
            "missing": [result(missing.value, missing.error), len(requests(service, MISSING))],
            "shared": results,
            "limiters": [len(shared.limiters), len(shared.admissions)],
            "host_breakers": sorted([breaker.name, len(breaker.calls)] for breaker in shared.breakers),
            "refused": {
                **timed(refused, refused.asked),
                "failure": failure_index(refusing, refused.error),
                "made": [time - refused.asked for time in transport.made.get(REFUSED, [])],
            },
        }

    found = run_client(scenario, service, script, transport)
    return found if "cancel" not in scenario else {**found, "cancel": observe_cancelled_fetch(names, scenario)}


def observe_cancelled_fetch(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """The scenario's ``cancel``, through a client of its own: whether the fetch ended cancelled (or what
    it gave instead), the requests it made after the cancellation (seconds after it), and the tasks it
    left running 10 s later."""
    cancel = scenario["cancel"]
    failing = Faults(latency=Latency.fixed(cancel["latency"]), error_rate=1.0)
    service = Service(seed=5, faults=failing, endpoints={"/items/1": failing})
    transport = CheckTransport(service)
    policy = policy_of(cancel, attempt_timeout=1.0)

    async def script(http: httpx.AsyncClient) -> Any:
        loop = asyncio.get_running_loop()
        client = make(names, http, policy, Spies(limiter_wait=cancel["limiter_wait"]))
        before, origin = asyncio.all_tasks(), loop.time()
        ended = await cancelled_after(lambda: client.fetch("/items/1"), cancel["at"])
        await asyncio.sleep(10)
        cut = origin + cancel["at"]
        late = [time - cut for time in transport.made.get("/items/1", []) if time > cut]
        left = [task for task in asyncio.all_tasks() - before if not task.done()]
        return {"ended": ended, "late": late, "left_running": len(left)}

    return run_client(scenario, service, script, transport)


def draw_retry_after(rng: random.Random) -> dict[str, Any]:
    """The rate-limited item's window taken by another request at ``taken``; fetch at ``taken + later``
    (same window): a 429 whose Retry-After is the rest of the window in whole seconds (at least 1); a
    deadline, sometimes, shorter than it, equal to it, or longer. Then ``scripted``: a fetch (3 attempts,
    a backoff delay of ``delay``, no deadline) whose first answer is a 429 or a 5xx with a Retry-After of
    0 (in a third of the draws), a few seconds, or one that is not a whole number of seconds (negative,
    a fraction, a word: no Retry-After), and whose second is a 200."""
    window = rng.randint(4, 32) / 4
    taken = rng.randrange(int(window * 4)) / 4
    later = rng.randrange(int((window - taken) * 4)) / 4
    asked = max(1, math.ceil(window - taken - later))
    attempts = rng.randint(2, 4)
    return {
        "start": _start(rng),
        "window": window,
        "taken": taken,
        "later": later,
        "attempts": attempts,
        "delays": _delays(rng, attempts - 1),
        "deadline": rng.choice([None, None, asked, asked - rng.randint(1, 3) / 4, asked + rng.randint(1, 16) / 4]),
        "scripted": {
            "status": rng.choice([429, 429, 500, 502, 503]),
            "retry_after": "0" if rng.random() < 1 / 3 else rng.choice(["1", "2", "3", "-2", "1.5", "soon"]),
            "delay": rng.randint(1, 24) / 8,
        },
    }


def observe_retry_after(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """``fetch`` of the rate-limited item: what it gives and when it ends, and its requests' times; then
    the ``scripted`` fetch, through a client of its own: what it gives and when it ends, and when its
    attempts were made (seconds after the call)."""
    service = _service(window=scenario["window"])
    scripted = scenario["scripted"]
    answers = [(scripted["status"], scripted["retry_after"]), (200, None)]
    transport = CheckTransport(service, scripts={SCRIPTED: answers})
    backoff = ClientPolicy(attempts=3, delays=delays_of([scripted["delay"]] * 2), deadline=None)

    async def script(http: httpx.AsyncClient) -> Any:
        origin = asyncio.get_running_loop().time()
        await asyncio.sleep(scenario["taken"])
        await http.get(BUSY)  # the window's one request
        await asyncio.sleep(scenario["later"])
        fetched = timed(await timed_call(make(names, http, policy_of(scenario), Spies()).fetch(BUSY)), origin)
        told = await timed_call(make(names, http, backoff, Spies()).fetch(SCRIPTED))
        made = [time - told.asked for time in transport.made.get(SCRIPTED, [])]
        return {
            "fetch": fetched,
            "requests": requests(service, BUSY)[1:],
            "scripted": {**timed(told, told.asked), "made": made},
        }

    return run_client(scenario, service, script, transport)


def draw_timeouts(rng: random.Random) -> dict[str, Any]:
    """Fetches of the hang (random timeout, attempts, delays, no deadline); then with a deadline: a fetch
    of the 503 (attempts until a wait would end at or after it) and one of the hang."""
    attempts = rng.randint(1, 4)
    return {
        "start": _start(rng),
        "hang": {"attempt_timeout": rng.randint(1, 16) / 8, "attempts": attempts, "delays": _delays(rng, attempts)},
        "deadline": {
            "attempt_timeout": rng.randint(1, 40) / 8,
            "attempts": rng.randint(3, 10),
            "delays": _delays(rng, 9),
            "deadline": rng.randint(2, 24) / 4,
        },
    }


def observe_timeouts(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """The hang's fetch: the errors the breaker saw and when, what fetch gives (which failure) and when;
    with the deadline: the 503's requests and fetch's end, the hang's fetch's end."""
    spies, limited, service = Spies(), Spies(), _service()

    async def script(http: httpx.AsyncClient) -> Any:
        origin = asyncio.get_running_loop().time()
        hang = await timed_call(make(names, http, policy_of(scenario["hang"]), spies).fetch(HANG))
        seen = [[type(error).__name__, t - origin] for breaker in spies.breakers for t, error in breaker.failures]
        client = make(names, http, policy_of(scenario["deadline"]), limited)
        down_origin = asyncio.get_running_loop().time()
        down = await timed_call(client.fetch(DOWN))
        late = await timed_call(client.fetch(HANG))
        made = [origin + time - down_origin for _, time, _ in requests(service, DOWN)]
        return {
            "hang": {**timed(hang, origin), "failure": failure_index(spies, hang.error), "seen": seen},
            "down": {**timed(down, down_origin), "requests": made},
            "late": timed(late, late.asked),
        }

    return run_client(scenario, service, script)


def draw_fast_fail(rng: random.Random) -> dict[str, Any]:
    """A fetch of the 503 through a breaker that opens after ``trip_after`` failures (0: open already),
    with more attempts than that, as in the checks: the breaker rejects one before they run out (what
    giving up after the last attempt raises is the retries and timeouts cells' business)."""
    trip = rng.randint(0, 5)
    attempts = rng.randint(trip + 1, 7)
    return {
        "start": _start(rng),
        "trip_after": trip,
        "attempts": attempts,
        "delays": _delays(rng, attempts - 1),
    }


def observe_fast_fail(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """What fetch gives and when; its requests; the breaker's calls and rejections (times)."""
    trip = scenario["trip_after"]
    spies, service = Spies(open=trip == 0, trip_after=trip or None), _service()

    async def script(http: httpx.AsyncClient) -> Any:
        origin = asyncio.get_running_loop().time()
        fetched = await timed_call(make(names, http, policy_of(scenario), spies).fetch(DOWN))
        breakers = [[len(b.calls), [t - origin for t in b.rejections]] for b in spies.breakers]
        return {"fetch": timed(fetched, origin), "requests": requests(service, DOWN), "breakers": breakers}

    return run_client(scenario, service, script)


# ---------------------------------------------------------------- exercise 3: get (bulkhead, cache, fallback)


def draw_bulkhead(rng: random.Random) -> dict[str, Any]:
    """One or two waves of gets of different items, at once within a wave; every answer takes ``latency``.
    In a quarter of the draws, ``cancels`` instead (:func:`draw_bulkhead_cancels`)."""
    if rng.random() < 0.25:
        return draw_bulkhead_cancels(rng)
    waves = [[0.0, rng.randint(0, 8)]] + ([[rng.randint(1, 16) / 4, rng.randint(1, 6)]] if rng.random() < 0.5 else [])
    return {"start": _start(rng), "limit": rng.randint(1, 5), "latency": rng.randint(2, 12) / 8, "waves": waves}


def draw_bulkhead_cancels(rng: random.Random) -> dict[str, Any]:
    """``limit + queued`` gets at once (the first ``limit`` get a slot; the others wait), every answer taking
    ``latency``; before the first answer, some waiting gets are cancelled, then some of those holding a slot
    (``cancels``: [get, instant]; a waiting get is cancelled before any slot frees, whichever waiting get
    the bulkhead lets in first); once every get is over, at ``later``, ``after`` gets at once."""
    limit, queued, latency = rng.randint(1, 3), rng.randint(0, 3), rng.randint(4, 12) / 8
    waiting = rng.sample(range(limit, limit + queued), rng.randint(0, queued))
    holding = rng.sample(range(limit), rng.randint(0 if waiting else 1, limit))
    instants = sorted({_inside(rng, 0.0, latency) for _ in waiting + holding})
    while len(instants) < len(waiting + holding):  # one instant for each get, all distinct
        instants = sorted({*instants, _inside(rng, 0.0, latency)})
    cancels = [[get, at] for get, at in zip(waiting + holding, instants, strict=True)]
    rounds = -(-(limit + queued) // limit)
    return {
        "start": _start(rng),
        "limit": limit,
        "latency": latency,
        "gets": limit + queued,
        "cancels": cancels,
        "later": (rounds + 1) * latency,
        "after": rng.randint(limit + 1, 2 * limit + 1),
    }


def observe_bulkhead(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """What each get gives; the calls' end times and the requests' (arrival, end) times, sorted (which
    waiting call goes next is free); the most requests in flight at once. With ``cancels``,
    :func:`observe_bulkhead_cancels`."""
    if "cancels" in scenario:
        return observe_bulkhead_cancels(names, scenario)
    service = _service(latency=scenario["latency"])
    policy = ClientPolicy(attempt_timeout=5.0, attempts=1, deadline=None, max_in_flight=scenario["limit"])
    urls = iter(ITEMS)

    async def script(http: httpx.AsyncClient) -> Any:
        loop = asyncio.get_running_loop()
        origin = loop.time()
        client = make(names, http, policy, Spies())

        async def wave(at: float, wanted: list[str]) -> list[Outcome]:
            await asyncio.sleep(origin + at - loop.time())
            return list(await asyncio.gather(*(timed_call(client.get(url)) for url in wanted)))

        waves = [wave(at, [next(urls) for _ in range(size)]) for at, size in scenario["waves"]]
        calls = [call for done in await asyncio.gather(*waves) for call in done]
        return {
            "results": [result(call.value, call.error) for call in calls],
            "ends": sorted((call.ended or 0.0) - origin for call in calls),
            "requests": sorted([r.time, r.ended] for r in service.log),
            "peak": _peak(service.log),
        }

    return run_client(scenario, service, script)


def observe_bulkhead_cancels(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """For the gets at once and for the gets ``later``: what each gives ("cancelled" when it ended so; a
    get still running ``2 * (gets + after) * latency`` s after it started is "not answered"), the end
    times of those answered, sorted, and the most requests in flight at once (so a slot a cancelled get
    held is given back, and a cancelled waiting get gives back none)."""
    service = _service(latency=scenario["latency"])
    policy = ClientPolicy(attempt_timeout=5.0, attempts=1, deadline=None, max_in_flight=scenario["limit"])
    urls = iter(ITEMS)
    patience = 2 * (scenario["gets"] + scenario["after"]) * scenario["latency"]

    async def script(http: httpx.AsyncClient) -> Any:
        loop = asyncio.get_running_loop()
        origin = loop.time()
        client = make(names, http, policy, Spies())

        async def wave(count: int, cancels: list[list[Any]]) -> dict[str, Any]:
            began = loop.time()
            wanted = [next(urls) for _ in range(count)]
            tasks = [asyncio.ensure_future(timed_call(client.get(url))) for url in wanted]
            for get, at in cancels:
                await asyncio.sleep(began + at - loop.time())
                tasks[get].cancel()
            await asyncio.wait(tasks, timeout=began + patience - loop.time())
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)
            ended = [None if task.cancelled() else task.result() for task in tasks]
            gave = ["cancelled" if call is None else result(call.value, call.error) for call in ended]
            return {
                "results": [
                    "not answered" if task.cancelled() and n not in dict(cancels) else got
                    for n, (task, got) in enumerate(zip(tasks, gave, strict=True))
                ],
                "ends": sorted((call.ended or 0.0) - began for call in ended if call is not None),
                "peak": _peak([r for r in service.log if r.path in wanted]),
            }

        first = await wave(scenario["gets"], scenario["cancels"])
        await asyncio.sleep(origin + scenario["later"] - loop.time())
        return {"first": first, "later": await wave(scenario["after"], [])}

    return run_client(scenario, service, script)


def draw_cache(rng: random.Random) -> dict[str, Any]:
    """Blocks of gets in random order, one after another, each on an item of its own, with a bulkhead of
    one: the item again later (or exactly when its answer expires, and just before); the item again while
    a slow get (the hang, ``timeout``) holds the bulkhead, when its answer is still fresh then; the 404
    twice; the 503 twice (a fallback). Answers take ``latency``; no get ever waits for the bulkhead."""
    ttl = rng.choice([0.0, *(rng.randint(2, 24) / 4 for _ in range(4))])
    latency = rng.choice([0.0, 1 / 16, 1 / 8])
    timeout = rng.randint(2, 6) / 4
    items = iter(rng.sample(ITEMS, 8))
    gets: list[list[Any]] = []
    now = 0.0
    kinds = [rng.choice(["again", "expiry"]), "slow", "missing", "down"]
    for kind in rng.sample(kinds, len(kinds)):
        item = next(items)
        block: list[list[Any]]
        if kind == "again":
            block = [[0.0, item], [latency + rng.randint(1, 64) / 8, item]]
        elif kind == "expiry":
            block = [[0.0, item], [latency + ttl - 1 / 8, item], [latency + ttl, item]][:: rng.choice([1, 2])]
        elif kind == "slow":
            during = 1 / 4 + rng.randint(1, int(timeout * 4) - 1) / 4
            block = [[0.0, item], [1 / 4, HANG], [during, item], [1 / 2 + timeout, item]]
            if not during < latency + ttl:  # not fresh: it would wait for the bulkhead (that cell's business)
                del block[2]
        else:
            url = MISSING if kind == "missing" else DOWN
            block = [[0.0, url], [rng.randint(1, 8) / 4, url]]
        gets += [[now + at, url] for i, (at, url) in enumerate(block) if at > 0 or i == 0]
        now = gets[-1][0] + timeout + 1 / 4  # every answer is in before the next block
    return {"start": _start(rng), "ttl": ttl, "latency": latency, "timeout": timeout, "gets": gets}


def observe_cache(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """Each get at its time: what it gives, when it ends, and which earlier get's response it is (the same
    object, from the cache); of a get of the 404, when it ends only (whether a 404 is returned or raised is
    the attempt cell's business), and so of a get of the hang (whether a timeout goes to the fallback is the
    fallback cell's); the requests the service saw."""
    service = _service(latency=scenario["latency"])
    policy = ClientPolicy(
        attempt_timeout=scenario["timeout"], attempts=1, deadline=None, max_in_flight=1, cache_ttl=scenario["ttl"]
    )

    async def script(http: httpx.AsyncClient) -> Any:
        loop = asyncio.get_running_loop()
        origin = loop.time()
        client = make(names, http, policy, Spies(), fallback=lambda url, error: "fallback")

        async def get(at: float, url: str) -> Outcome:
            await asyncio.sleep(origin + at - loop.time())
            return await timed_call(client.get(url))

        calls = await asyncio.gather(*(get(at, url) for at, url in scenario["gets"]))
        responses = [call.value if isinstance(call.value, httpx.Response) else None for call in calls]
        gets = [
            {"ended": timed(call, origin)["ended"]}
            if url in (MISSING, HANG)
            else {**timed(call, origin), "same_as": None if response is None else index_of(responses, response)}
            for (_, url), call, response in zip(scenario["gets"], calls, responses, strict=True)
        ]
        return {"gets": gets, "requests": requests(service)}

    return run_client(scenario, service, script)


def draw_fallback(rng: random.Random) -> dict[str, Any]:
    """Gets of two items, the 503, the hang, in random order, with a fallback whose value holds a random
    token; a get through an open breaker; gets without a fallback. (No 404: whether it is returned or
    raised is the attempt cell's business.) In a third of the draws, ``cancel``: a get with the fallback,
    of the hang or of the 503, cancelled ``at`` seconds after it started, in an attempt or a retry's sleep
    (the 503 is answered at once: in the sleep)."""
    attempts = rng.randint(1, 2)
    urls = [*rng.sample(ITEMS, 2), DOWN, HANG]
    rng.shuffle(urls)
    scenario: dict[str, Any] = {
        "start": _start(rng),
        "token": f"{rng.randrange(10**6):06d}",
        "attempt_timeout": rng.randint(1, 8) / 8,
        "attempts": attempts,
        "delays": _delays(rng, attempts - 1),
        "urls": urls,
        "bare": rng.sample([DOWN, HANG], rng.randint(1, 2)),
    }
    if rng.random() < 1 / 3:
        timeout, delays = scenario["attempt_timeout"], scenario["delays"]
        url = rng.choice([HANG, DOWN]) if delays else HANG
        if url == HANG:
            phases = [(0.0, timeout), *((timeout, timeout + delay) for delay in delays)]
            phases += [(timeout + delay, 2 * timeout + delay) for delay in delays]
        else:
            phases = [(0.0, delay) for delay in delays]
        scenario["cancel"] = {"url": url, "at": _cancel_in(rng, phases)}
    return scenario


def observe_fallback(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """Each get's result and end, and the fallback's calls during it (URL, error type, and for a failed
    answer which one the breakers saw it is: fetch's last; whether they saw a timeout is the timeouts
    cell's business); through an open breaker, the same; without a fallback, each get's result. With
    ``cancel``, last, whether that get ended cancelled (or what it gave instead), and the fallback's calls
    during it (none)."""
    service, token = _service(), scenario["token"]
    policy = policy_of(scenario)

    async def script(http: httpx.AsyncClient) -> Any:
        origin = asyncio.get_running_loop().time()
        spies, rejecting = Spies(), Spies(open=True)
        called: list[list[Any]] = []

        def fallback(url: str, error: BaseException) -> str:
            called.append([url, type(error).__name__, answer_index(spies, error)])
            return f"{token} for {url}"

        async def observed(client: Any, url: str) -> dict[str, Any]:
            before = len(called)
            found = timed(await timed_call(client.get(url)), origin)
            return {**found, "fallback": called[before:]}

        # a client per get: whether a later call's retries wait the delays from the first again is the
        # retries cell's business
        gets = [await observed(make(names, http, policy, spies, fallback=fallback), url) for url in scenario["urls"]]
        opened = await observed(make(names, http, policy, rejecting, fallback=fallback), scenario["urls"][0])
        bare = [await observed(make(names, http, policy, Spies()), url) for url in scenario["bare"]]
        if "cancel" not in scenario:
            return {"gets": gets, "open": opened, "bare": bare}
        cancel, before = scenario["cancel"], len(called)
        client = make(names, http, policy, Spies(), fallback=fallback)
        ended = await cancelled_after(lambda: client.get(cancel["url"]), cancel["at"])
        return {"gets": gets, "open": opened, "bare": bare, "cancelled": {"ended": ended, "fallback": called[before:]}}

    return run_client(scenario, service, script)


# ---------------------------------------------------------------- exercise 4: admit_links


def draw_admit_links(rng: random.Random) -> dict[str, Any]:
    """Calls on one ``depths``: random links (repeats, pages seen before), random depths and limits."""
    pages = [f"/pages/{n}" for n in rng.sample(range(60), 12)]
    seen = {page: rng.randint(0, 2) for page in pages[: rng.randint(0, 3)]}
    max_depth = rng.randint(0, 4)
    calls = [[rng.choices(pages, k=rng.randint(0, 7)), rng.randint(0, max_depth + 1)] for _ in range(rng.randint(2, 6))]
    limit = rng.choice([rng.randint(1, 4), rng.randint(5, 15)])
    return {"depths": seen, "max_depth": max_depth, "max_pages": limit, "calls": calls}


def observe_admit_links(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """What each call returns, and ``depths`` after it."""
    admit_links = names["admit_links"]
    limits = {"max_depth": scenario["max_depth"], "max_pages": scenario["max_pages"]}

    async def main() -> Any:  # plain code, run where a busy loop is stopped and observed as blocked
        depths = dict(scenario["depths"])
        found = []
        for links, depth in scenario["calls"]:
            admitted = admit_links(list(links), depth, depths, **limits)
            found.append([admitted, dict(depths)])
        return found

    return outcome(run_virtual(main, deadline=1.0, wall_limit=2.0))


PROBES = {
    "ch10-ex1-limiter": Probe(draw_limiter, observe_limiter),
    "ch10-ex1-breakers": Probe(draw_breakers, observe_breakers),
    "ch10-ex2-attempt": Probe(draw_attempt, observe_attempt),
    "ch10-ex2-retries": Probe(draw_retries, observe_retries),
    "ch10-ex2-retry-after": Probe(draw_retry_after, observe_retry_after),
    "ch10-ex2-timeouts": Probe(draw_timeouts, observe_timeouts),
    "ch10-ex2-fast-fail": Probe(draw_fast_fail, observe_fast_fail),
    "ch10-ex3-bulkhead": Probe(draw_bulkhead, observe_bulkhead),
    "ch10-ex3-cache": Probe(draw_cache, observe_cache),
    "ch10-ex3-fallback": Probe(draw_fallback, observe_fallback),
    "ch10-ex4-admit-links-checks": Probe(draw_admit_links, observe_admit_links),
}
