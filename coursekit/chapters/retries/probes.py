"""Chapter 6 probes: backoff_delays, is_retryable, retry_after and retry on random scenarios.

Clock: ``retry`` runs on the virtual clock of :func:`~coursekit.virtual_time.run_virtual` (it
starts at 0; a scenario begins at a random ``start``) against
:class:`~coursekit.chapters.retries.given.ScriptedCall` stand-ins or the course's in-process service.
Scripted latencies, delays, deadlines and ``Retry-After`` values are multiples of 0.25 s, exact
in binary, so that a wait ending exactly at the deadline (which is allowed) is seen the same way
whatever the arithmetic; a caller is cancelled 0.125 s off that grid. The plain functions run
inside ``run_virtual`` too, so that one that loops for ever is reported, not waited for.
``retry_after``'s wall-clock cases (no readable ``Date``) are observed as "about N s", within the
checks' tolerance; everything else is exact.
"""

from __future__ import annotations

import asyncio
import builtins
import itertools
import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from email.utils import formatdate
from typing import Any

import httpx

from coursekit.chapters.retries.given import (
    Permanent,
    RetryPolicy,
    ScriptedCall,
    Transient,
    delays_of,
    no_retry_after,
    retry_after_seconds,
)
from coursekit.probing import Probe, outcome, shown
from coursekit.service import Faults, Latency, RateLimit, Service
from coursekit.virtual_time import run_virtual

STEP = 0.25  # the grid of scripted times
OFF_GRID = 0.125  # where a caller is cancelled: never when a call or a wait ends
WALL = 2.0  # real seconds a scenario may block the loop
MANY, FEW = 200, 20  # delays drawn per jittered scenario: all of them, and again / with another seed
TOLERANCE = 2e-6  # observed delays are rounded to 6 decimals
EPOCHS = (946_684_800, 2_051_222_400)  # Retry-After dates between 2000 and 2035
REQUEST = httpx.Request("GET", "http://service.test/items/1")


def _q(rng: random.Random, low: float, high: float) -> float:
    """A multiple of :data:`STEP` in ``[low, high]``."""
    return STEP * rng.randint(round(low / STEP), round(high / STEP))


def _start(rng: random.Random) -> float:
    return rng.choice([0.0, _q(rng, STEP, 50)])


def _now() -> float:
    return asyncio.get_running_loop().time()


def _plain(compute: Callable[[], Any]) -> Any:
    """``compute()`` (learner code that takes no time), observed; a block past :data:`WALL` is reported."""

    async def main() -> Any:
        return compute()

    return outcome(run_virtual(main, deadline=10, wall_limit=WALL))


def _bool(value: Any) -> Any:
    """A bool as it is; anything else by its type (1 is not True)."""
    return value if isinstance(value, bool) else {"not a bool": type(value).__name__}


def _response(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=REQUEST)


# ------------------------------------------------------------------ backoff_delays


def _draw_backoff(rng: random.Random, strategies: Sequence[str]) -> dict[str, Any]:
    base = round(rng.uniform(0.01, 3), 2)
    return {
        "strategy": rng.choice(strategies),
        "base": base,
        "cap": base if rng.random() < 0.1 else round(base * rng.uniform(1, 60), 2),
        "seed": rng.randint(0, 10**6),
    }


def _delays(names: Mapping[str, Any], scenario: dict[str, Any], seed: int, count: int) -> list[Any]:
    delays = names["backoff_delays"](
        scenario["strategy"], base=scenario["base"], cap=scenario["cap"], rng=random.Random(seed)
    )
    return list(itertools.islice(delays, count))


def draw_fixed(rng: random.Random) -> dict[str, Any]:
    return {**_draw_backoff(rng, ["constant", "exponential"]), "count": rng.randint(1, 40)}


def observe_fixed(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """The first ``count`` delays of a constant or exponential strategy (no clock)."""
    return _plain(lambda: _delays(names, scenario, scenario["seed"], scenario["count"]))


def draw_jitter(rng: random.Random) -> dict[str, Any]:
    return {**_draw_backoff(rng, ["full", "equal"]), "other_seed": rng.randint(0, 10**6)}


def draw_decorrelated(rng: random.Random) -> dict[str, Any]:
    return {**_draw_backoff(rng, ["decorrelated"]), "other_seed": rng.randint(0, 10**6)}


def observe_jitter(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """A jittered strategy's first :data:`MANY` delays with ``random.Random(seed)``, the first
    :data:`FEW` again with a new ``random.Random(seed)``, and with ``random.Random(other_seed)`` (no clock)."""
    return _plain(
        lambda: {
            "delays": _delays(names, scenario, scenario["seed"], MANY),
            "again": _delays(names, scenario, scenario["seed"], FEW),
            "other": _delays(names, scenario, scenario["other_seed"], FEW),
        }
    )


def _jitter_range(scenario: dict[str, Any], n: int, previous: float) -> tuple[float, float]:
    """Where the statement puts delay ``n`` (``previous``: the delay before, ``base`` at first)."""
    base, cap = scenario["base"], scenario["cap"]
    ceiling = min(cap, base * 2**n)
    if scenario["strategy"] == "full":
        return 0.0, ceiling
    if scenario["strategy"] == "equal":
        return ceiling / 2, ceiling
    return base, min(cap, 3 * previous)


def _jitter_faults(scenario: dict[str, Any], observed: Any) -> dict[str, str]:
    """What the statement's rules say is wrong with a jittered observation, by rule: the delays are
    numbers within their range, repeat with the seed, differ with another, and spread over the range."""
    seen = observed.get("returned") if isinstance(observed, dict) else None
    if not isinstance(seen, dict) or not all(isinstance(seen.get(key), list) for key in ("delays", "again", "other")):
        return {"shape": f"it gave {shown(observed)}"}
    delays = seen["delays"]
    if len(delays) < MANY or not all(isinstance(d, int | float) and not isinstance(d, bool) for d in delays):
        return {"shape": f"its first {MANY} delays are not {MANY} numbers"}
    faults = {}
    if seen["again"] != delays[:FEW]:
        faults["repeat"] = "a second random.Random(seed) gives other delays: draw only from rng"
    if seen["other"] == delays[:FEW]:
        faults["rng"] = "another seed gives the same delays: draw from rng"
    positions = []
    for n, (previous, delay) in enumerate(zip([scenario["base"], *delays], delays, strict=False)):
        low, high = _jitter_range(scenario, n, previous)
        if not low - TOLERANCE <= delay <= high + TOLERANCE:
            faults.setdefault("range", f"delay {n} is {delay:g}, outside [{low:g}, {high:g}]")
        positions.append((delay - low) / (high - low) if high > low else 0.5)
    if scenario["strategy"] == "decorrelated":
        if max(delays) <= 3 * scenario["base"] + TOLERANCE:
            faults["spread"] = f"no delay of {MANY} passes 3 * base: each range grows with the delay before"
    elif min(positions) > 0.1 or max(positions) < 0.9:
        faults["spread"] = f"{MANY} delays do not reach both the lowest and the highest tenth of their range"
    return faults


def judge_jitter(scenario: dict[str, Any], observed: Any, expected: Any) -> str | None:
    """Any draw the statement allows (within its range, from ``rng``): the first rule the observation
    breaks that the reference's keeps on this scenario, or None."""
    allowed = _jitter_faults(scenario, expected)
    broken = [why for rule, why in _jitter_faults(scenario, observed).items() if rule not in allowed]
    return broken[0] if broken else None


# ------------------------------------------------------------------ is_retryable

HTTPX_ERRORS = (
    "ConnectTimeout ReadTimeout WriteTimeout PoolTimeout ConnectError ReadError WriteError CloseError "
    "RemoteProtocolError LocalProtocolError ProxyError UnsupportedProtocol DecodingError TooManyRedirects "
    "InvalidURL HTTPStatusError"
).split()
PROGRAMMING_ERRORS = ("ValueError", "KeyError", "TypeError", "AttributeError", "ZeroDivisionError", "RuntimeError")
# The socket's own errors, which httpx wraps in its classes: none of the statement's transient errors.
BUILTIN_OS_ERRORS = ("TimeoutError", "ConnectionResetError", "ConnectionRefusedError", "OSError")


def _status(rng: random.Random) -> int:
    return rng.choice([rng.randint(200, 599), 429, rng.randint(400, 499), rng.randint(500, 599)])


def _draw_service(rng: random.Random) -> dict[str, Any] | None:
    """Now and then, answers of the course's service too (seeded, started at ``start``)."""
    if rng.random() < 0.5:
        return None
    return {"seed": rng.randint(0, 1000), "window": _q(rng, 1, 20), "start": _start(rng)}


async def _service_answers(settings: dict[str, Any] | None) -> list[httpx.Response]:
    """A page (200), a missing page (404), an outage (503), a first and a rate-limited request (200, 429)."""
    if settings is None:
        return []
    service = Service(
        seed=settings["seed"],
        faults=Faults(latency=Latency.fixed(0.1)),
        endpoints={
            "/items": Faults(outages=((0.0, 5.0),)),
            "/pages/1": Faults(rate_limit=RateLimit(1, settings["window"])),
        },
    )
    await asyncio.sleep(settings["start"])
    async with service.client() as client:
        return [await client.get(path) for path in ("/pages/0", "/pages/999", "/items/1", "/pages/1", "/pages/1")]


def draw_responses(rng: random.Random) -> dict[str, Any]:
    return {"statuses": [_status(rng) for _ in range(rng.randint(8, 16))], "service": _draw_service(rng)}


def observe_responses(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """``is_retryable`` of responses with ``statuses``, then of the service's answers (with their status)."""

    async def main() -> dict[str, Any]:
        answers = await _service_answers(scenario["service"])
        is_retryable = names["is_retryable"]
        return {
            "statuses": [_bool(is_retryable(_response(status))) for status in scenario["statuses"]],
            "service": [[answer.status_code, _bool(is_retryable(answer))] for answer in answers],
        }

    return outcome(run_virtual(main, deadline=100, wall_limit=WALL))


def _error(kind: str, status: int) -> BaseException:
    if kind == "HTTPStatusError":
        return httpx.HTTPStatusError(str(status), request=REQUEST, response=_response(status))
    error_class: type[BaseException] = getattr(httpx, kind, None) or getattr(builtins, kind)
    if issubclass(error_class, httpx.RequestError):
        return error_class(f"{kind} on GET /items/1", request=REQUEST)
    return error_class(f"{kind} in the code")


# An HTTPStatusError's status, in the errors' cell: that the response's status decides, on statuses
# every reading of "429 or 5xx" agrees on; the whole range of statuses is the responses' cell's.
COMMON_STATUSES = (429, 500, 502, 503, 504, 400, 401, 403, 404, 409, 410, 422)


def draw_errors(rng: random.Random) -> dict[str, Any]:
    # HTTPStatusError twice: its status decides more often
    kinds = [*HTTPX_ERRORS, "HTTPStatusError", "HTTPStatusError", *PROGRAMMING_ERRORS, *BUILTIN_OS_ERRORS]
    return {"errors": [[rng.choice(kinds), rng.choice(COMMON_STATUSES)] for _ in range(rng.randint(8, 16))]}


def observe_errors(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """``is_retryable`` of each error (``[kind, status]``: the status is an HTTPStatusError's response's)."""
    return _plain(lambda: [_bool(names["is_retryable"](_error(kind, status))) for kind, status in scenario["errors"]])


# ------------------------------------------------------------------ retry_after

UNREADABLE = ("soon", "later", "tomorrow", "in 5 minutes", "", "3 s", "12 seconds", "Thu, 99 Foo 2026")


def _retry_after_case(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(["seconds", "date", "none", "unreadable", "wall", "negative"])
    case: dict[str, Any] = {"kind": kind, "status": rng.choice([429, 503])}
    if kind == "seconds":
        case["value"] = rng.choice([0, rng.randint(1, 10), rng.randint(11, 100_000)])
    elif kind == "negative":  # a signed number of seconds: 0.0 (never below) or None (not a whole number)
        case["value"] = -rng.randint(1, 3600)
    elif kind == "date":
        case["delta"] = rng.randint(-3600, 3600)
    elif kind == "unreadable":
        case["text"] = rng.choice(UNREADABLE)
    elif kind == "wall":  # against time.time(): no Date, or one that cannot be read
        case["delta"] = rng.randint(-3600, 600)
        case["date"] = rng.choice([None, "yesterday", "not a date"])
    return case


def draw_retry_after(rng: random.Random) -> dict[str, Any]:
    rate_limited = None
    if rng.random() < 0.4:  # the service's own 429, Retry-After in seconds or as an HTTP date
        window = _q(rng, 1, 30)
        rate_limited = {
            "seed": rng.randint(0, 1000),
            "window": window,
            "second": _q(rng, 0, window - STEP),  # when the second request goes: in the same window
            "form": rng.choice(["seconds", "http-date"]),
            "start": _start(rng),
        }
    return {
        "epoch": rng.randint(*EPOCHS),
        "cases": [_retry_after_case(rng) for _ in range(rng.randint(5, 10))],
        "service": rate_limited,
    }


def _headers(case: dict[str, Any], epoch: int, wall: int) -> dict[str, str]:
    date = {"date": formatdate(epoch, usegmt=True)}
    kind = case["kind"]
    if kind in ("seconds", "negative"):
        return {"retry-after": str(case["value"]), **date}
    if kind == "date":
        return {"retry-after": formatdate(epoch + case["delta"], usegmt=True), **date}
    if kind == "unreadable":
        return {"retry-after": case["text"], **date}
    if kind == "wall":
        after = {"retry-after": formatdate(wall + case["delta"], usegmt=True)}
        return after if case["date"] is None else {**after, "date": case["date"]}
    return date


def _read(
    retry_after: Callable[[Any], Any], response: httpx.Response, about: int | None, *, floored: bool = False
) -> Any:
    """One answer; a wall-clock one (``about`` s ahead) as "about N s" when within the checks' tolerance;
    with ``floored`` (a negative number of seconds), 0.0 and None, both allowed, as "0.0 or None"."""
    try:
        answer = retry_after(response)
    except Exception as error:  # noqa: BLE001  (observed, and the other cases go on)
        return {"raised": type(error).__name__}
    if floored and (
        answer is None or (isinstance(answer, int | float) and not isinstance(answer, bool) and answer == 0)
    ):
        return "0.0 or None"
    number = isinstance(answer, int | float) and not isinstance(answer, bool)
    if about is not None and number and about - 2 <= answer <= about + 1:
        return f"about {about} s"
    return answer


async def _rate_limited(settings: dict[str, Any] | None) -> list[httpx.Response]:
    """The service's 429: a second request ``second`` s into a window that allows one."""
    if settings is None:
        return []
    limit = RateLimit(1, settings["window"], retry_after=settings["form"])
    service = Service(seed=settings["seed"], faults=Faults(rate_limit=limit))
    await asyncio.sleep(settings["start"])
    async with service.client() as client:
        await client.get("/items/1")
        await asyncio.sleep(settings["second"])
        return [await client.get("/items/1")]


def observe_retry_after(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """``retry_after`` of each case's response (the Date at ``epoch``; the wall-clock ones ``delta`` s
    from ``time.time()``, observed as "about N s"; a negative number of seconds as "0.0 or None" when it
    is either), then of the service's answer (with its status)."""

    async def main() -> dict[str, Any]:
        answers = await _rate_limited(scenario["service"])
        retry_after, seen = names["retry_after"], []
        for case in scenario["cases"]:
            response = _response(case["status"], **_headers(case, scenario["epoch"], math.ceil(time.time())))
            about = case["delta"] if case["kind"] == "wall" else None
            seen.append(_read(retry_after, response, about, floored=case["kind"] == "negative"))
        return {"cases": seen, "service": [[a.status_code, _read(retry_after, a, None)] for a in answers]}

    return outcome(run_virtual(main, deadline=100, wall_limit=WALL))


# ------------------------------------------------------------------ retry

RETRYABLE = ("transient", 500, 502, 503, 504, 429)
FINAL = ("ok", "permanent", 200, 404, None)  # None: the last retryable outcome repeats
SUCCESSES = ("ok", 200, None)  # the finals of the deadline's cell
DEADLINE_ATTEMPTS = 100  # more calls than a deadline of 20 s lets through, at least STEP s each


def _outcome_of(token: Any, n: int) -> Any:
    """A script entry: ``"transient"``/``"permanent"`` errors, ``"ok"``, a status, or [status, Retry-After]."""
    if token == "transient":
        return Transient(f"failure {n}")
    if token == "permanent":
        return Permanent(f"bad request {n}")
    if token == "ok":
        return f"ok {n}"
    status, after = (token, None) if isinstance(token, int) else token
    return _response(status) if after is None else _response(status, **{"retry-after": str(after)})


def _script(rng: random.Random, retryable: Sequence[Any], longest: int, finals: Sequence[Any] = FINAL) -> list[Any]:
    tokens = [rng.choice(retryable) for _ in range(rng.randint(0, longest))]
    final = rng.choice(finals if tokens else [token for token in finals if token is not None])
    return tokens if final is None else [*tokens, final]


def _which(value: Any, script: list[Any]) -> Any:
    """A script entry by its position (the very object), anything else by its type."""
    found = next((n for n, entry in enumerate(script) if entry is value), None)
    return f"script[{found}]" if found is not None else type(value).__name__


def _ended(task: asyncio.Task[Any], script: list[Any]) -> dict[str, Any]:
    """How a finished ``retry`` task ended (a script entry by position), and when (loop clock)."""
    if task.cancelled():
        ended: dict[str, Any] = {"cancelled": True}
    elif task.exception() is not None:
        ended = {"raised": _which(task.exception(), script)}
    else:
        ended = {"returned": _which(task.result(), script)}
    ended["at"] = _now()
    return ended


def observe_retry(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """``retry(call, policy)`` at ``start`` on a ScriptedCall playing ``script``: what it returned or
    raised (a script entry by position) and when, and when each call started; with ``cancel_at``, its
    task is cancelled then, and the calls are those made up to 10 s later. With ``again``, once it has
    ended, a second ``retry`` with the same policy on a fresh ScriptedCall of the same script: how it
    ended and when its calls started (each ``retry`` takes a fresh ``policy.delays()``)."""
    script = [_outcome_of(token, n) for n, token in enumerate(scenario["script"])]
    call = ScriptedCall(script, latency=scenario["latency"])
    policy = RetryPolicy(
        attempts=scenario["attempts"],
        delays=delays_of(scenario["delays"]),
        deadline=scenario.get("deadline"),
        retry_after=retry_after_seconds if scenario.get("retry_after") else no_retry_after,
    )
    start, cancel_at = scenario["start"], scenario.get("cancel_at")

    async def main() -> dict[str, Any]:
        await asyncio.sleep(start)
        task = asyncio.create_task(names["retry"](call, policy))
        if cancel_at is not None:
            await asyncio.wait({task}, timeout=cancel_at)
            task.cancel()
        await asyncio.wait({task})
        ended = _ended(task, script)
        if cancel_at is not None:
            await asyncio.sleep(10)
        if scenario.get("again"):
            second = ScriptedCall(script, latency=scenario["latency"])
            task = asyncio.create_task(names["retry"](second, policy))
            await asyncio.wait({task})
            ended["again"] = {**_ended(task, script), "calls": second.calls}
        return ended

    run = run_virtual(main, deadline=start + 1000, wall_limit=WALL)
    return {**outcome(run), "calls": list(call.calls)}


def draw_attempts(rng: random.Random) -> dict[str, Any]:
    """Retryable failures, then an outcome that is not, with non-uniform delays, often with attempts
    and delays to spare (the script's last outcome, retried, would be called again), and now and then
    followed by a second ``retry`` with the same policy (``again``); or, now and then, failures for ever
    and a caller cancelled on the way."""
    latency, start = _q(rng, 0, 2), _start(rng)
    if rng.random() < 0.25:
        attempts = rng.randint(2, 8)
        delays = [_q(rng, 0, 4) for _ in range(attempts)]
        cancel_at = _q(rng, 0, latency * attempts + sum(delays)) + OFF_GRID
        return {
            "script": ["transient"],
            "attempts": attempts,
            "delays": delays,
            "latency": latency,
            "start": start,
            "cancel_at": cancel_at,
        }
    script = _script(rng, RETRYABLE, 7)
    roomy = rng.random() < 0.4  # one attempt and one delay more than the script needs, at least
    return {
        "script": script,
        "attempts": rng.randint(len(script) + 1, len(script) + 3) if roomy else rng.randint(1, 6),
        "delays": [
            _q(rng, 0, 4) for _ in range(rng.randint(len(script), len(script) + 2) if roomy else rng.randint(0, 7))
        ],
        "latency": latency,
        "start": start,
        "again": rng.random() < 0.3,
    }


def draw_backoff(rng: random.Random) -> dict[str, Any]:
    """Retryable responses, some with Retry-After, then a success within the attempts, with a
    constant delay (whether a Retry-After wait uses up a delay is left open: then it changes
    nothing); and, now and then, the course's service (see :func:`_against_service`). Giving up and
    outcomes that are not retryable are the attempts' cell's (:func:`draw_attempts`)."""
    asked = [[status, rng.randint(0, 8)] for status in (429, 429, 503)]
    service = {"seed": rng.randint(0, 1000), "outage": _q(rng, STEP, 6), "window": _q(rng, 4, 20)}
    script = _script(rng, [*RETRYABLE, *asked], 7, ("ok", 200))
    attempts = rng.randint(len(script), 8)
    return {
        "script": script,
        "attempts": attempts,
        "delays": [_q(rng, 0, 3)] * attempts,
        "retry_after": True,
        "latency": _q(rng, 0, 2),
        "start": _start(rng),
        "service": {**service, "delay": _q(rng, STEP, 2)} if rng.random() < 0.5 else None,
    }


def observe_backoff(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """:func:`observe_retry`; with ``service``, also :func:`_against_service`."""
    scripted = observe_retry(names, scenario)
    if scenario["service"] is None:
        return scripted
    return {"scripted": scripted, "service": _against_service(names, scenario["service"])}


def _against_service(names: Mapping[str, Any], settings: dict[str, Any]) -> Any:
    """``GET /items/1`` while ``/items`` is down for ``outage`` s, retried every ``delay`` s; then
    ``GET /pages/0`` once two requests have filled a window of ``window`` s (its 429 carries
    Retry-After): each final status, when (service clock), after how many requests."""
    latency = Latency.fixed(0.1)
    service = Service(
        seed=settings["seed"],
        faults=Faults(latency=latency),
        endpoints={
            "/items": Faults(latency=latency, outages=((0.0, settings["outage"]),)),
            "/pages": Faults(latency=latency, rate_limit=RateLimit(2, settings["window"])),
        },
    )
    policy = RetryPolicy(attempts=20, delays=delays_of([settings["delay"]] * 20), retry_after=retry_after_seconds)

    async def main() -> list[list[Any]]:
        seen = []
        async with service.client() as client:
            for path in ("/items/1", "/pages/0"):
                if path == "/pages/0":
                    await client.get("/pages/1")
                    await client.get("/pages/2")
                before = len(service.log)
                response = await names["retry"](lambda path=path: client.get(path), policy)
                seen.append([response.status_code, service.now(), len(service.log) - before])
        return seen

    return outcome(run_virtual(main, deadline=1000, wall_limit=WALL))


def draw_deadline(rng: random.Random) -> dict[str, Any]:
    """Retryable failures under a deadline, with non-uniform delays; or with a constant delay and
    Retry-After (see :func:`draw_backoff`). As in the checks, the script ends in a success or goes
    on failing, and the attempts never run out first (:data:`DEADLINE_ATTEMPTS`, each call taking
    some time): running out of attempts and outcomes that are not retryable (a Permanent error, a
    404) are the attempts' cell's (:func:`draw_attempts`). A Retry-After is never shorter than the
    delay, so waiting for it is waiting for the longer of the two: the rule "Retry-After instead of
    the delay" is the backoff cell's (:func:`draw_backoff`). Without Retry-After, the deadline is now
    and then exactly when one of the waits ends (:func:`_wait_ends`): that wait is made."""
    with_asked = rng.random() < 0.35
    delay = _q(rng, 0, 3)
    least = math.ceil(delay)
    asked = [[429, rng.randint(least, 30)], [503, rng.randint(least, 12)]] if with_asked else []
    cycle = [delay] if with_asked else [_q(rng, 0, 8) for _ in range(rng.randint(1, 6))]
    script = _script(rng, ["transient", 503, *asked], 12, SUCCESSES)
    delays = (cycle * DEADLINE_ATTEMPTS)[:DEADLINE_ATTEMPTS]
    latency = _q(rng, STEP, 1.5)
    deadline = _q(rng, 0, 20)
    if not with_asked and rng.random() < 0.4:  # a wait that ends exactly at the deadline (it is made)
        deadline = rng.choice(_wait_ends(script, delays, latency, 20) or [deadline])
    return {
        "script": script,
        "attempts": DEADLINE_ATTEMPTS,
        "delays": delays,
        "deadline": deadline,
        "retry_after": with_asked,
        "latency": latency,
        "start": _start(rng),
    }


def _wait_ends(script: list[Any], delays: list[float], latency: float, most: float) -> list[float]:
    """When, from the first call, the waits end that a ``script`` of failures (a last one that is
    not a success repeats) and ``delays`` make without a deadline, up to ``most`` s."""
    ends, now = [], 0.0
    for n, delay in enumerate(delays):
        if (n < len(script) and script[n] in SUCCESSES) or now + latency + delay > most:
            break
        now += latency + delay
        ends.append(now)
    return ends


PROBES = {
    "ch06-ex1-fixed": Probe(draw_fixed, observe_fixed),
    "ch06-ex1-jitter": Probe(draw_jitter, observe_jitter, judge=judge_jitter),
    "ch06-ex1-decorrelated": Probe(draw_decorrelated, observe_jitter, judge=judge_jitter),
    "ch06-ex2-responses": Probe(draw_responses, observe_responses),
    "ch06-ex2-errors": Probe(draw_errors, observe_errors),
    "ch06-ex2-retry-after": Probe(draw_retry_after, observe_retry_after),
    "ch06-ex3-attempts": Probe(draw_attempts, observe_retry),
    "ch06-ex3-backoff": Probe(draw_backoff, observe_backoff),
    "ch06-ex3-deadline": Probe(draw_deadline, observe_retry),
}
