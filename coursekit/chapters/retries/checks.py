"""Chapter 6 checks: backoff_delays, is_retryable, retry_after and retry (semantics: solutions/retries.py).

Each ``check_*`` is a scenario plus named properties: the scenario runs the learner's code once
(:mod:`coursekit.scenario`) and returns what it observed; each property, a function of that
observation with its own hints, passes the check's :class:`~coursekit.checks.Chain` or fails it:
defined -> runs -> terminates -> correct. ``retry`` runs on the virtual clock against
:class:`~coursekit.chapters.retries.given.ScriptedCall` stand-ins (which record when each call
started) or the course's HTTP service; ``start`` is when the scenario begins on the loop's clock,
so code that assumes the clock starts at 0 shows up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import itertools
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from email.utils import formatdate
from typing import Literal, Protocol, TypeVar

import httpx

from coursekit.chapters.retries.given import (
    Permanent,
    RetryPolicy,
    ScriptedCall,
    Transient,
    delays_of,
    retry_after_seconds,
)
from coursekit.checks import Chain, describe_error, learner_facing
from coursekit.scenario import (
    Outcome,
    Swept,
    cancellation_sweep,
    cancelled_at,
    ends_cancelled_at_each_wait,
    run_scenario,
    sleep_until,
    sweep_instants,
    timed_call,
)
from coursekit.service import Faults, Latency, RateLimit, Service
from coursekit.virtual_time import VirtualRun, run_virtual

T = TypeVar("T")

# ------------------------------------------------------------------ the learner's subjects

Strategy = Literal["constant", "exponential", "full", "equal", "decorrelated"]


class BackoffDelays(Protocol):
    """``backoff_delays(strategy, base=, cap=, rng=)``: the delays, in seconds, of ``strategy``."""

    def __call__(self, strategy: Strategy, *, base: float, cap: float, rng: random.Random) -> Iterable[float]: ...


# is_retryable(outcome): is a response, or an exception, worth another call?
IsRetryable = Callable[[httpx.Response | BaseException], bool]
# retry_after(response): the seconds the response asks to wait, or None
RetryAfter = Callable[[httpx.Response], float | None]


class Retry(Protocol):
    """``await retry(call, policy)``: the outcome of ``call()``, retried as ``policy`` says."""

    def __call__(self, call: Callable[[], Awaitable[T]], policy: RetryPolicy, /) -> Awaitable[T]: ...


EPOCH = 1_767_225_600.0  # a Date for the responses the checks make


def _times(times: list[float]) -> str:
    return "[" + ", ".join(f"{t:g}" for t in times) + "]"


def _response(status: int, **headers: str) -> httpx.Response:
    request = httpx.Request("GET", "http://service.test/items/1")
    return httpx.Response(status, headers=headers, request=request)


def is_a_plain_function(
    chain: Chain, function: object, name: str, *, kind: str = "a plain function", hint: str = "define it with `def`"
) -> None:
    chain.require(
        callable(function) and not inspect.iscoroutinefunction(function),
        f"{name} is {kind}",
        observed=f"{name} is {function!r}",
        hint=hint,
    )


# ------------------------------------------------------------------ backoff_delays

COVERAGE_DRAWS = 200  # a uniform draw misses a tenth of its range 200 times in a row with probability 0.9**200


@dataclass(frozen=True)
class Backoff:
    """A scenario of backoff_delays: its arguments, the call that shows them, and the draws."""

    strategy: Strategy
    base: float
    cap: float
    seed: int

    @property
    def call(self) -> str:
        return (
            f"backoff_delays({self.strategy!r}, base={self.base:g}, cap={self.cap:g}, rng=random.Random({self.seed}))"
        )

    def ceiling(self, n: int) -> float:
        return float(min(self.cap, self.base * 2**n))

    def draw(self, backoff_delays: BackoffDelays, count: int) -> list[float]:
        """The first ``count`` delays, from a fresh ``random.Random(seed)``."""
        delays = backoff_delays(self.strategy, base=self.base, cap=self.cap, rng=random.Random(self.seed))
        return list(itertools.islice(delays, count))


@learner_facing
def check_backoff_delays(
    backoff_delays: BackoffDelays,
    *,
    strategy: Strategy = "exponential",
    base: float = 1.0,
    cap: float = 30.0,
    seed: int = 7,
    count: int = 12,
) -> None:
    """The first ``count`` delays of ``strategy`` are within its bounds (exactly the value, for constant
    and exponential); jittered ones come from the ``rng`` passed in (a seed repeats them) and spread
    over their range."""
    backoff = Backoff(strategy, base, cap, seed)
    chain = Chain("backoff_delays")
    is_a_plain_function(
        chain,
        backoff_delays,
        "backoff_delays",
        kind="a plain function (or generator)",
        hint="define it with `def` (not `async def`) and `yield` each delay",
    )
    delays = chain.require_returns(
        backoff.call,
        lambda: backoff.draw(backoff_delays, count),
        hint="try list(itertools.islice(backoff_delays(...), 5)) in a cell of its own",
    )
    yields_at_least(chain, backoff.call, delays, count)
    yields_numbers_of_seconds(chain, backoff.call, delays)
    each_delay_is_within_its_bounds(chain, backoff, delays)
    if strategy in ("constant", "exponential"):
        return
    the_same_seed_gives_the_same_delays(chain, backoff, delays, again=backoff.draw(backoff_delays, count))
    jitter_spreads_the_delays(chain, backoff, delays)
    if strategy in ("full", "equal"):
        jitter_covers_the_whole_range(chain, backoff, many_delays(chain, backoff_delays, backoff))
    elif cap > 3 * base:
        decorrelated_ranges_grow(chain, backoff, many_delays(chain, backoff_delays, backoff))


def yields_at_least(chain: Chain, call: str, delays: list[float], count: int) -> None:
    chain.require(
        len(delays) == count,
        f"{call} yields at least {count} delays",
        observed=f"it stopped after {len(delays)}",
        hint="the generator never ends: loop with `while True:` and let the retry loop stop taking delays",
    )


def yields_numbers_of_seconds(chain: Chain, call: str, delays: list[float]) -> None:
    chain.require(
        all(isinstance(d, int | float) and math.isfinite(d) for d in delays),
        f"{call} yields numbers of seconds",
        observed=f"it yielded {delays!r}",
        hint="yield a float each time",
    )


def each_delay_is_within_its_bounds(chain: Chain, backoff: Backoff, delays: list[float]) -> None:
    strategy, base, cap = backoff.strategy, backoff.base, backoff.cap
    previous = base
    for n, delay in enumerate(delays):
        ceiling = backoff.ceiling(n)
        low, high = {
            "constant": (base, base),
            "exponential": (ceiling, ceiling),
            "full": (0.0, ceiling),
            "equal": (ceiling / 2, ceiling),
            "decorrelated": (base, min(cap, 3 * previous)),
        }[strategy]
        if delay > cap * (1 + 1e-9) and strategy != "constant":
            hint = "the delay must never exceed cap: apply min(cap, ...) to the range, before drawing"
        elif strategy in ("exponential", "full", "equal") and n == 0 and math.isclose(delay, 2 * base):
            hint = "count n from 0: the first delay is base * 2**0 = base"
        elif strategy == "decorrelated":
            hint = (
                "draw from [base, 3 * previous], where previous is the delay you yielded before (base at first), "
                "then cap"
            )
        elif strategy == "equal" and delay < low:
            hint = "equal jitter keeps half: v/2 + uniform(0, v/2), so never below v/2"
        else:
            hint = {
                "constant": "every delay is base",
                "exponential": "delay n is min(cap, base * 2**n)",
                "full": "full jitter draws uniformly in [0, min(cap, base * 2**n)]",
                "equal": "equal jitter draws uniformly in [v/2, v], v = min(cap, base * 2**n)",
            }[strategy]
        chain.require(
            low - 1e-9 <= delay <= high + 1e-9,
            f"{backoff.call}: delay {n} is " + (f"{low:g}" if low == high else f"in [{low:g}, {high:g}]"),
            observed=f"delay {n} is {delay:g} (the first ones: {', '.join(f'{d:.4g}' for d in delays[: n + 1])})",
            hint=hint,
        )
        previous = delay


def the_same_seed_gives_the_same_delays(
    chain: Chain, backoff: Backoff, delays: list[float], again: list[float]
) -> None:
    chain.require(
        again == delays,
        f"{backoff.call}: the same seed gives the same delays",
        observed=f"a second random.Random({backoff.seed}) gave {', '.join(f'{d:.4g}' for d in again[:4])}, ... "
        f"instead of {', '.join(f'{d:.4g}' for d in delays[:4])}, ...",
        hint="draw every random number from the `rng` argument (rng.uniform), never from the random module",
    )


def jitter_spreads_the_delays(chain: Chain, backoff: Backoff, delays: list[float]) -> None:
    ceilings = [backoff.ceiling(n) for n in range(len(delays))]
    if backoff.strategy == "full":
        spread = any(d < c / 2 for d, c in zip(delays, ceilings, strict=True))
        what, hint = "some delays below half their ceiling", "full jitter draws from 0 up, not from v/2 (equal jitter)"
    elif backoff.strategy == "equal":
        spread = any(d < 0.9 * c for d, c in zip(delays, ceilings, strict=True))
        what, hint = "delays spread below their ceiling", "draw a random part: v/2 + rng.uniform(0, v/2)"
    else:
        spread = len({round(d, 9) for d in delays}) > 2
        what, hint = "delays that differ", "draw each delay with rng.uniform(base, 3 * previous)"
    chain.require(
        spread,
        f"{backoff.call}: jitter spreads the delays ({what})",
        observed=f"the delays were {', '.join(f'{d:.4g}' for d in delays)}",
        hint=hint,
    )


def many_delays(chain: Chain, backoff_delays: BackoffDelays, backoff: Backoff) -> list[float]:
    """Scenario: the first ``COVERAGE_DRAWS`` delays, for the properties only many draws show."""
    try:
        many = backoff.draw(backoff_delays, COVERAGE_DRAWS)
    except Exception as error:
        chain.fail(
            f"{backoff.call} runs without raising for {COVERAGE_DRAWS} delays",
            observed=f"raised {describe_error(error)}",
            hint="try list(itertools.islice(backoff_delays(...), 200)) in a cell of its own",
        )
    yields_at_least(chain, backoff.call, many, COVERAGE_DRAWS)
    return many


def jitter_covers_the_whole_range(chain: Chain, backoff: Backoff, many: list[float]) -> None:
    """Over many draws, full and equal jitter come close to both ends of their range: uniform in it,
    not in a part of it."""
    equal = backoff.strategy == "equal"
    bottom = "v/2" if equal else "0"
    what = f"[{bottom}, v]"
    positions = []  # where each delay sits in its range: 0 at its low end, 1 at v
    for n, delay in enumerate(many):
        ceiling = backoff.ceiling(n)
        low = ceiling / 2 if equal else 0.0
        positions.append((delay - low) / (ceiling - low))
    lowest, highest = min(positions), max(positions)
    if lowest < -1e-9 or highest > 1 + 1e-9:
        hint = f"every delay stays in {what}, v = min(cap, base * 2**n), however many you take"
    elif highest < 0.9:
        hint = (
            "the top of the range is never reached: the random part of equal jitter spans all of v/2 "
            "(v/2 + rng.uniform(0, v/2))"
            if equal
            else "the top of the range is never reached: full jitter draws rng.uniform(0, v), up to v itself"
        )
    else:
        hint = (
            "the bottom of the range is never reached: equal jitter draws from v/2 up (v/2 + rng.uniform(0, v/2))"
            if equal
            else "the bottom of the range is never reached: full jitter draws from 0 up (rng.uniform(0, v))"
        )
    chain.require(
        lowest <= 0.1 and highest >= 0.9,
        f"{backoff.call}: over {COVERAGE_DRAWS} delays, jitter covers {what} (some in its lowest tenth, some in "
        "its highest)",
        observed=f"the delays sat from {lowest:.0%} to {highest:.0%} of {what} (0% at {bottom}, 100% at v)",
        hint=hint,
    )


def decorrelated_ranges_grow(chain: Chain, backoff: Backoff, many: list[float]) -> None:
    """Decorrelated jitter's range follows the delay before: over many draws, some go past 3 * base,
    which a range fixed at [base, 3 * base] never does."""
    base, longest = backoff.base, max(many)
    chain.require(
        longest > 3 * base * (1 + 1e-9),
        f"{backoff.call}: over {COVERAGE_DRAWS} delays, some pass 3 * base = {3 * base:g} (each range grows with "
        "the delay before)",
        observed=f"the longest of {COVERAGE_DRAWS} delays was {longest:.4g}",
        hint="previous is the delay you yielded before (base only for the first): draw "
        "rng.uniform(base, 3 * previous), cap it, yield it, and keep it as the next previous",
    )


# ------------------------------------------------------------------ is_retryable


RESPONSES = (200, 201, 204, 301, 304, 400, 401, 403, 404, 408, 409, 422, 429, 500, 502, 503, 504)
ONE_BY_ONE = 20  # statuses checked (and shown) one by one; more are one property, as the hidden range(100, 600)


@learner_facing
def check_is_retryable_responses(is_retryable: IsRetryable, *, statuses: tuple[int, ...] = RESPONSES) -> None:
    """A response is retryable exactly when its status is 429 or 5xx."""
    chain = Chain("is_retryable")
    is_a_plain_function(chain, is_retryable, "is_retryable")
    if len(statuses) > ONE_BY_ONE:
        classifies_every_status(chain, is_retryable, statuses)
        return
    for status in statuses:
        expected = status == 429 or 500 <= status <= 599
        classifies_the_outcome(chain, is_retryable, _response(status), f"a {status} response", expected)


def classifies_every_status(chain: Chain, is_retryable: IsRetryable, statuses: tuple[int, ...]) -> None:
    """Many statuses, one property (one line in the notebook): the first one misclassified fails it."""
    for status in statuses:
        expected = status == 429 or 500 <= status <= 599
        try:
            answer = is_retryable(_response(status))
        except Exception:  # noqa: BLE001  (the one-status property words it)
            answer = None
        if answer is not expected:
            classifies_the_outcome(chain, is_retryable, _response(status), f"a {status} response", expected)
    chain.passed(
        f"is_retryable(a response) is True for 429 and 500 to 599 and False for the rest of the {len(statuses)} "
        f"statuses from {min(statuses)} to {max(statuses)}"
    )


def _status_hint(status: int, error: bool) -> str:
    """What the statement says of a response's status (``error``: an HTTPStatusError's response)."""
    if status == 429:
        hint = "429 Too Many Requests is the server asking you to come back later: retry it (after Retry-After)"
    elif status >= 500:
        hint = "every 5xx is the server's failure, worth another try: all of 500 to 599, not only 503"
    elif status == 408:
        hint = (
            "408 Request Timeout is a 4xx like the others here: among the 4xx the statement retries 429 only, "
            "and False for anything else"
        )
    elif status >= 400:
        hint = "a 4xx other than 429 is the client's mistake: the same request fails the same way again"
    else:
        hint = "a success (or redirect) is an answer: nothing to retry"
    if error:
        hint += (
            " (an HTTPStatusError carries its .response: classify that, by the same rule as a response: 429 or any 5xx)"
        )
    return hint


def _error_hint(error: BaseException, expected: bool) -> str:
    """What the statement says of an exception that is no HTTPStatusError."""
    if expected:
        return (
            "timeouts (every httpx.TimeoutException: connect, read, write, pool), network errors (every "
            "httpx.NetworkError: connect, read, write, close) and RemoteProtocolError are transient: retry them "
            "(isinstance with those three classes, not a list of some of their subclasses)"
        )
    if isinstance(error, OSError) and not isinstance(error, httpx.HTTPError):  # TimeoutError is an OSError
        return (
            "a built-in TimeoutError or OSError is none of httpx's transient errors: the statement retries "
            "httpx.TimeoutException, httpx.NetworkError and httpx.RemoteProtocolError, and nothing else"
        )
    if isinstance(error, httpx.LocalProtocolError):
        return (
            "LocalProtocolError is our side breaking HTTP (a bad header, say): it fails again the same way; only "
            "RemoteProtocolError, the server's, is transient (not every httpx.ProtocolError)"
        )
    return (
        "this error will not go away on its own (a bad URL, a bug): retrying only hides it; "
        "don't retry every Exception, nor every httpx.TransportError (UnsupportedProtocol is one)"
    )


def classifies_the_outcome(
    chain: Chain, is_retryable: IsRetryable, outcome: httpx.Response | BaseException, what: str, expected: bool
) -> None:
    """``is_retryable(outcome)`` is ``expected``, its hint by the kind of outcome."""
    call = f"is_retryable({what})"
    answer = chain.require_returns(
        call,
        lambda: is_retryable(outcome),
        hint="an outcome is either an httpx.Response or an exception: check which with isinstance first",
    )
    if isinstance(outcome, httpx.Response):
        hint = _status_hint(outcome.status_code, error=False)
    elif isinstance(outcome, httpx.HTTPStatusError):
        hint = _status_hint(outcome.response.status_code, error=True)
    else:
        hint = _error_hint(outcome, expected)
    chain.require(
        answer is expected,
        f"{call} is {expected}",
        observed=f"it returned {answer!r}",
        hint=hint,
    )


STATUS_ERRORS = (500, 501, 502, 503, 504, 599, 429, 400, 404, 408, 418, 301)  # of an HTTPStatusError's response


def _errors() -> list[tuple[BaseException, str, bool]]:
    """Every transient httpx error (the three classes and their subclasses), HTTPStatusErrors of statuses
    drawn from the whole range, every other httpx error, built-in timeouts and OS errors, programming errors."""
    request = httpx.Request("GET", "http://service.test/items/1")

    def status_error(status: int) -> httpx.HTTPStatusError:
        return httpx.HTTPStatusError(str(status), request=request, response=_response(status))

    transient: list[type[httpx.RequestError]] = [
        httpx.ConnectError,
        httpx.ReadError,
        httpx.WriteError,
        httpx.CloseError,
        httpx.NetworkError,
        httpx.ReadTimeout,
        httpx.ConnectTimeout,
        httpx.WriteTimeout,
        httpx.PoolTimeout,
        httpx.TimeoutException,
        httpx.RemoteProtocolError,
    ]
    other_httpx: list[type[httpx.RequestError]] = [
        httpx.UnsupportedProtocol,
        httpx.LocalProtocolError,
        httpx.ProxyError,
        httpx.DecodingError,
        httpx.TooManyRedirects,
    ]
    return [
        *[(kind("it failed", request=request), f"httpx.{kind.__name__}", True) for kind in transient],
        *[
            (status_error(status), f"httpx.HTTPStatusError of a {status}", status == 429 or status >= 500)
            for status in STATUS_ERRORS
        ],
        *[(kind("it failed", request=request), f"httpx.{kind.__name__}", False) for kind in other_httpx],
        (httpx.InvalidURL("bad url"), "httpx.InvalidURL", False),
        (TimeoutError("timed out"), "TimeoutError (the built-in one)", False),
        (ConnectionResetError("connection reset"), "ConnectionResetError", False),
        (OSError("no route to host"), "OSError", False),
        (ValueError("bad argument"), "ValueError", False),
        (KeyError("id"), "KeyError", False),
        (TypeError("not callable"), "TypeError", False),
    ]


@learner_facing
def check_is_retryable_errors(is_retryable: IsRetryable, *, only: tuple[str, ...] = ()) -> None:
    """Timeouts, network errors (every kind), a broken exchange and an HTTPStatusError of a 429 or 5xx are
    retryable; an HTTPStatusError of any other status, every other httpx error, built-in timeouts and OS
    errors, and programming errors are not."""
    chain = Chain("is_retryable")
    for error, what, expected in _errors():
        if not only or any(name in what for name in only):
            classifies_the_outcome(chain, is_retryable, error, what, expected)


@learner_facing
def check_is_retryable_service(is_retryable: IsRetryable, *, seed: int = 3, start: float = 1.5) -> None:
    """Real answers of the course's service: a page (200), a missing page (404), an outage (503), a
    rate-limited request (429)."""
    chain = Chain("is_retryable")
    responses = service_answers(seed, start)
    for response, label in zip(responses, ("page", "missing page", "outage", "first", "rate-limited"), strict=True):
        if label == "first":
            continue
        what = f"the service's {label} answer ({response.status_code}, seed={seed})"
        classifies_the_outcome(chain, is_retryable, response, what, response.status_code in (429, 503))


def service_answers(seed: int, start: float) -> list[httpx.Response]:
    """Scenario: from t=``start``, a page, a missing page, an item during an outage, and a page twice
    in a window that allows one."""
    service = Service(
        seed=seed,
        faults=Faults(latency=Latency.fixed(0.1)),
        endpoints={"/items": Faults(outages=((0.0, 5.0),)), "/pages/1": Faults(rate_limit=RateLimit(1, 10.0))},
    )

    async def main() -> list[httpx.Response]:
        await sleep_until(start)
        async with service.client() as client:
            return [await client.get(path) for path in ("/pages/0", "/pages/999", "/items/1", "/pages/1", "/pages/1")]

    return run_virtual(main, deadline=start + 60).unwrap()


# ------------------------------------------------------------------ retry_after


@dataclass(frozen=True)
class Asked:
    """A response for retry_after: what it has (as the messages name it), the answer expected and the
    hint; ``from_now`` when that answer is read against the wall clock (then about ``expected``)."""

    what: str
    response: httpx.Response
    expected: float | None
    hint: str
    from_now: bool = False
    or_none: bool = False  # None is right too (a header that may be read as unreadable)


@learner_facing
def check_retry_after(
    retry_after: RetryAfter, *, seconds: int = 3, later: int = 7, seed: int = 4, start: float = 2.0
) -> None:
    """``Retry-After`` in seconds and as an HTTP date (read against the response's ``Date``), one in the
    past (0), none or unreadable (None); the service's own 429 with an HTTP date; and a date ``later`` s
    ahead of the wall clock, with no ``Date`` or an unreadable one (read against ``time.time()``)."""
    chain = Chain("retry_after")
    is_a_plain_function(chain, retry_after, "retry_after")
    for asked in [*headers_asking(seconds, later), the_services_429(seed, start), *wall_clock_dates(later)]:
        reads_what_is_asked(chain, retry_after, asked)


def headers_asking(seconds: int, later: int) -> list[Asked]:
    """Responses dated :data:`EPOCH`: Retry-After in seconds, as a date ahead and one past, none, unreadable."""
    date = formatdate(EPOCH, usegmt=True)
    ahead, past = formatdate(EPOCH + later, usegmt=True), formatdate(EPOCH - later, usegmt=True)
    return [
        Asked(
            f"Retry-After: {seconds}",
            _response(429, **{"retry-after": str(seconds), "date": date}),
            float(seconds),
            "a number is seconds: float(value)"
            if seconds
            else "Retry-After: 0 asks for no wait at all: 0.0, not None (0 is falsy: test `is None`, not truthiness)",
        ),
        Asked(
            f"Retry-After: {ahead} with Date: {date}",
            _response(503, **{"retry-after": ahead, "date": date}),
            float(later),
            "an HTTP date: email.utils.parsedate_to_datetime(value), minus the response's own Date header "
            "(not your clock: the server's and yours differ)",
        ),
        Asked(
            f"Retry-After: {past} (in the past) with Date: {date}",
            _response(503, **{"retry-after": past, "date": date}),
            0.0,
            "a date already past means no wait: never below 0.0",
        ),
        Asked("no Retry-After", _response(503, date=date), None, "no header: None"),
        Asked("Retry-After: soon", _response(429, **{"retry-after": "soon", "date": date}), None, "unreadable: None"),
        Asked(
            "Retry-After: -5",
            _response(429, **{"retry-after": "-5", "date": date}),
            0.0,
            "never below 0.0: a negative number of seconds asks for no wait (0.0), or is no whole number of "
            "seconds at all (None); clamp with max(0.0, ...) after reading a number too, not only a date",
            or_none=True,
        ),
    ]


def the_services_429(seed: int, start: float) -> Asked:
    """Scenario: the service's own 429, its Retry-After an HTTP date."""
    service = Service(seed=seed, faults=Faults(rate_limit=RateLimit(1, 10.0, retry_after="http-date")))

    async def rate_limited() -> httpx.Response:
        await sleep_until(start)
        async with service.client() as client:
            await client.get("/items/1")
            await asyncio.sleep(2.5)
            return await client.get("/items/1")  # at t=2.55 of the service's clock: the window reopens at t=10

    response = run_virtual(rate_limited, deadline=start + 60).unwrap()
    return Asked(
        f"the service's 429 at t=2.55 of a 10 s window (Retry-After: {response.headers['retry-after']})",
        response,
        8.0,
        "read the date against the response's Date header",
    )


def wall_clock_dates(later: int) -> list[Asked]:
    """Without a readable Date the date is read against the wall clock: one ``later`` s ahead of it (named
    without its text in the messages, which the notebook stores)."""
    ahead = formatdate(math.ceil(time.time()) + later, usegmt=True)
    return [
        Asked(
            f"Retry-After: the HTTP date {later} s from now and no Date",
            _response(503, **{"retry-after": ahead}),
            float(later),
            "no Date header: measure the date against time.time()",
            from_now=True,
        ),
        Asked(
            f"Retry-After: the HTTP date {later} s from now and an unreadable Date: yesterday",
            _response(503, **{"retry-after": ahead, "date": "yesterday"}),
            float(later),
            "a Date that cannot be read is as good as none: measure against time.time() (catch the parser's "
            "TypeError/ValueError around the Date too)",
            from_now=True,
        ),
        Asked(
            "Retry-After: an HTTP date an hour before now and no Date",
            _response(503, **{"retry-after": formatdate(math.ceil(time.time()) - 3600, usegmt=True)}),
            0.0,
            "never below 0.0, against time.time() as much as against a Date: a date already past means no wait",
        ),
    ]


def reads_what_is_asked(chain: Chain, retry_after: RetryAfter, asked: Asked) -> None:
    """``retry_after(response)`` runs and is the seconds asked for (about them, against the wall clock)."""
    call = f"retry_after(a {asked.response.status_code} response with {asked.what})"
    answer = chain.require_returns(
        call,
        functools.partial(retry_after, asked.response),
        hint=asked.hint
        if asked.from_now
        else "a missing or unreadable header gives None: check before parsing, and catch the parser's "
        "TypeError/ValueError",
    )
    number = answer if isinstance(answer, int | float) and not isinstance(answer, bool) else None
    expected = asked.expected
    if expected is None or (asked.or_none and answer is None):
        ok = answer is None
    elif asked.from_now:  # `later` s of the wall clock, give or take the second formatdate drops
        ok = number is not None and expected - 2.0 <= number <= expected + 1.0
    else:
        ok = number is not None and math.isclose(number, expected)
    chain.require(
        ok,
        f"{call} is "
        + (
            f"about {expected!r} (the date minus time.time())"
            if asked.from_now
            else f"{expected!r} or None"
            if asked.or_none
            else f"{expected!r}"
        ),
        observed=f"it returned {answer!r}",
        hint=asked.hint,
    )


# ------------------------------------------------------------------ retry


@dataclass
class Retried:
    """What ``retry(call, policy)``, started at t=``start``, did: its run on the virtual clock, in which
    retry's own error ends the run (so :meth:`~coursekit.checks.Chain.require_finished` words it), and
    its :class:`~coursekit.scenario.Outcome` when it returned or raised."""

    what: str  # the scenario, as the messages name it
    call: ScriptedCall
    run: VirtualRun[Outcome]
    outcome: Outcome | None

    @property
    def calls(self) -> list[float]:
        """When the calls started."""
        return self.call.calls

    @property
    def ended(self) -> float:
        """When retry returned or raised (when the run ended, if it did neither)."""
        ended = None if self.outcome is None else self.outcome.ended
        return self.run.elapsed if ended is None else ended


def run_retry(retry: Retry, call: ScriptedCall, policy: RetryPolicy, start: float) -> Retried:
    """Scenario: ``await retry(call, policy)`` at t=``start``, timed."""

    async def main() -> Outcome:
        await sleep_until(start)
        return await timed_call(retry(call, policy))

    run = run_virtual(main, deadline=start + 1000)
    outcome = run.value if run.outcome == "returned" else None
    if outcome is not None and outcome.error is not None:
        run = dataclasses.replace(run, outcome="raised", value=None, error=outcome.error)
    return Retried(f"retry({call!r}, {policy!r}) at t={start:g}", call, run, outcome)


def _described(run: VirtualRun[Outcome]) -> str:
    """What retry did: ``returned VALUE``, ``raised ERROR``, or why the run did not end."""
    if run.outcome == "raised":
        return f"raised {describe_error(run.error)}"
    if run.outcome in ("hung", "blocked"):
        return run.diagnosis.splitlines()[0]
    return f"returned {run.unwrap().value!r}"


def _require_implemented(chain: Chain, retried: Retried) -> None:
    """The release's placeholder gets its own message, before any property of the calls."""
    if isinstance(retried.run.error, NotImplementedError):
        chain.require_finished(retried.run, retried.what)


def _finished(chain: Chain, retried: Retried) -> Outcome:
    """retry returned (it did not raise, hang or block): its outcome."""
    chain.require_finished(retried.run, retried.what)
    return retried.run.unwrap()


def _expected_calls(start: float, latency: float, waits: list[float], calls: int) -> tuple[list[float], float]:
    """When ``calls`` calls of ``latency`` s start, with ``waits`` between them, and when the last ends."""
    times, now = [], start
    for n in range(calls):
        times.append(now)
        now += latency
        if n < calls - 1:
            now += waits[n]
    return times, now


@learner_facing
def check_retry_attempts(
    retry: Retry,
    *,
    failures: int = 2,
    attempts: int = 4,
    delays: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0),
    latency: float = 0.5,
    start: float = 3.0,
) -> None:
    """A call that fails ``failures`` times with :class:`Transient`, then returns ``"ok"``: at most
    ``attempts`` calls in all, and no more than ``delays`` allow (one retry per delay), the waits between
    them ``delays`` in order; the result, or the last error (the same object) when the attempts or the
    delays run out, as soon as the last call ends."""
    script: list[object] = [Transient(f"failure {n + 1}") for n in range(failures)] + ["ok"]
    policy = RetryPolicy(attempts=attempts, delays=delays_of(delays))
    chain = Chain("retry")
    chain.require_async_function(retry, "retry")
    retried = run_retry(retry, ScriptedCall(script, latency=latency), policy, start)
    _require_implemented(chain, retried)
    calls = min(failures + 1, attempts, len(delays) + 1)
    ran_out = "delays" if calls < min(failures + 1, attempts) else "attempts"
    if retried.run.outcome in ("raised", "returned", "hung"):
        calls_as_often_as_allowed(chain, retried, calls, policy, delays, ran_out)
    if calls == failures + 1:
        returns_the_calls_result(chain, retried)
    else:
        raises_the_last_error_when_they_run_out(chain, retried, script[calls - 1], ran_out)
    expected_times, end = _expected_calls(start, latency, list(delays), calls)
    calls_after_each_delay(chain, retried, expected_times, delays)
    ends_when_the_last_call_does(chain, retried, end)
    again = run_retry(retry, ScriptedCall(script, latency=latency), policy, start)
    the_same_policy_retries_the_same_way_again(chain, retried, again)


def the_same_policy_retries_the_same_way_again(chain: Chain, first: Retried, again: Retried) -> None:
    """Repeated use: a second ``retry()`` with the same policy (a new call, the same script) starts with
    fresh delays, so it calls at the same times and ends the same way."""
    same_end = again.run.outcome == first.run.outcome and math.isclose(again.ended, first.ended)
    chain.require(
        again.calls == first.calls and same_end,
        f"{first.what}, then again with the same policy: the second retry() calls at t={_times(first.calls)} too",
        observed=f"the second one called at t={_times(again.calls)}, then {_described(again.run)}",
        hint="each retry() call takes a fresh iterator, delays = policy.delays(), when it starts: an iterator kept "
        "from an earlier call (per policy, or in a global) has used up its first delays",
    )


def calls_as_often_as_allowed(
    chain: Chain, retried: Retried, calls: int, policy: RetryPolicy, delays: tuple[float, ...], ran_out: str
) -> None:
    seen = len(retried.calls)
    if ran_out == "delays" and seen > calls:
        hint = (
            f"the policy has only {len(delays)} delay{'s' if len(delays) != 1 else ''}: when they run out, give up "
            "(next(delays, None) is None) even if attempts are left"
        )
    elif seen == calls + 1 and calls == policy.attempts:
        hint = "attempts counts every call, the first included: attempts=N means 1 call and N-1 retries"
    elif seen > calls:
        hint = "stop when policy.retryable(outcome) is False, or when the calls reach policy.attempts"
    else:
        hint = (
            "retry while policy.retryable(outcome) is True: catch the exception (or look at the value) and call again"
        )
    chain.require(
        seen == calls,
        f"{retried.what} calls {calls} times",
        observed=f"it called {seen} times, at t={_times(retried.calls)}, then {_described(retried.run)}",
        hint=hint,
    )


def returns_the_calls_result(chain: Chain, retried: Retried) -> None:
    value = _finished(chain, retried).value
    chain.require(
        value == "ok",
        f"{retried.what} returns the call's result",
        observed=f"it returned {value!r}",
        hint="return what the successful call returned",
    )


def raises_the_last_error_when_they_run_out(chain: Chain, retried: Retried, last: object, ran_out: str) -> None:
    run = retried.run
    if ran_out == "delays" and run.outcome == "raised" and isinstance(run.error, RuntimeError | StopIteration):
        hint = (
            "next(delays) raises StopIteration when the delays run out (a coroutine turns it into a "
            "RuntimeError): take next(delays, None) and give up when it is None"
        )
    elif run.outcome == "returned":
        hint = "when it gives up on an error, raise that last exception itself (`raise error`): don't return"
    else:
        hint = "re-raise the last exception itself (`raise error`), not a new one nor the first"
    chain.require(
        run.outcome == "raised" and run.error is last,
        f"{retried.what} raises the last error ({last!r}) when the {ran_out} run out",
        observed=_described(run),
        hint=hint,
    )


def calls_after_each_delay(chain: Chain, retried: Retried, expected: list[float], delays: tuple[float, ...]) -> None:
    waits = [later - earlier - retried.call.latency for earlier, later in itertools.pairwise(retried.calls)]
    restarted = (
        len(waits) >= 2 and len(set(delays[: len(waits)])) > 1 and all(math.isclose(wait, delays[0]) for wait in waits)
    )
    chain.require(
        retried.calls == expected,
        f"{retried.what} calls at t={_times(expected)}",
        observed=f"the calls started at t={_times(retried.calls)}",
        hint="every wait was the first delay: make the iterator once per retry() call (delays = policy.delays(), "
        "before the loop) and take next(delays) from it; each new policy.delays() starts over"
        if restarted
        else "wait the policy's delays in order (a fresh policy.delays() per retry() call), after each failed call "
        "ends, with await asyncio.sleep(delay)",
    )


def ends_when_the_last_call_does(chain: Chain, retried: Retried, end: float) -> None:
    chain.require(
        math.isclose(retried.ended, end),
        f"{retried.what} ends when the last call does (t={end:g})",
        observed=f"it ended at t={retried.ended:g}",
        hint="after the last call, don't wait again: there is nothing to wait for",
    )


@learner_facing
def check_retry_not_retryable(retry: Retry, *, latency: float = 0.25, start: float = 5.0) -> None:
    """Outcomes that are not retryable end it after that call: an error propagates (the same object),
    a 404 or a 200 is returned; and a cancelled caller stops retrying."""
    chain = Chain("retry")
    chain.require_async_function(retry, "retry")
    bad = Permanent("bad request")
    not_found = _response(404)
    policy = RetryPolicy(attempts=5, delays=delays_of([1.0] * 5))
    for script, expected in (
        ([bad, "ok"], "raise"),
        ([not_found, "ok"], "return"),
        ([Transient("dropped"), not_found, "ok"], "return"),
    ):
        retried = run_retry(retry, ScriptedCall(script, latency=latency), policy, start)
        _require_implemented(chain, retried)
        needed = len(script) - 1
        if retried.run.outcome in ("raised", "returned"):
            stops_after_what_is_not_retryable(chain, retried, needed)
        if expected == "raise":
            raises_the_permanent_error_at_once(chain, retried, bad)
        else:
            returns_the_404_response(chain, retried, script[needed - 1])
    cancelled = cancel_the_caller(chain, retry, policy, latency, start)
    cancellation_propagates_and_stops_the_calls(chain, *cancelled)
    a_cancelled_caller_gets_cancelled_error(chain, *cancel_at_each_wait(chain, retry, latency, start))


def cancel_at_each_wait(
    chain: Chain, retry: Retry, latency: float, start: float
) -> tuple[str, list[Swept], dict[float, list[float]]]:
    """Scenario: retry a call that fails (an error, a 429 that asks for 2 s, an error, then 503s) until its
    attempts run out, uncancelled; then again with its caller cancelled at each of its waits in turn
    (:func:`~coursekit.scenario.cancellation_sweep`). The scenario, the sweep, and the calls started after
    each instant (the run goes on 10 s after the cancellation, for the calls and tasks that outlive it)."""
    script = [Transient("dropped"), _response(429, **{"retry-after": "2"}), Transient("reset"), _response(503)]
    policy = RetryPolicy(attempts=5, delays=delays_of([1.0, 0.5, 1.5, 0.75]), retry_after=retry_after_seconds)
    what = f"retry({ScriptedCall(script, latency=latency)!r}, {policy!r}) at t={start:g}"
    late: dict[float, list[float]] = {}

    def scenario(at: float) -> VirtualRun[Outcome]:
        call = ScriptedCall(script, latency=latency)

        async def main() -> Outcome:
            await sleep_until(start)
            outcome = await cancelled_at(lambda: retry(call, policy), at)
            await asyncio.sleep(10.0)
            return outcome

        run = run_virtual(main, deadline=start + 1000)
        late[at] = [t for t in call.calls if t > at + 1e-9]
        return run

    swept = cancellation_sweep(
        chain, what, scenario, instants=lambda run: sweep_instants(run, start=start, until=run.unwrap().ended)
    )
    return what, swept, late


def a_cancelled_caller_gets_cancelled_error(
    chain: Chain, what: str, swept: list[Swept], late: dict[float, list[float]]
) -> None:
    """At every instant of the sweep: CancelledError propagates, no call starts after it, no task is left."""
    ends_cancelled_at_each_wait(
        chain,
        what,
        swept,
        hint="a cancelled retry() must raise CancelledError, never return or raise something else: catch Exception "
        "around call() and the wait, never BaseException (or a bare except:), and never keep a CancelledError "
        "as an outcome",
    )
    prop = f"{what}, its caller cancelled at any of its waits: no call starts after it and no task is left"
    failed = [one for one in swept if late[one.at] or one.run.leftover]
    if not failed:
        chain.passed(prop)
        return
    first, calls = failed[0], late[failed[0].at]
    chain.fail(
        prop,
        observed=f"cancelled at t={first.at:g}, "
        + (
            f"calls started at t={_times(calls)}"
            if calls
            else f"{len(first.run.leftover)} task(s) still running 10 s later"
        ),
        hint="a cancellation is not a failure to retry: let CancelledError out of call() and of the wait"
        if calls
        else "await call() in retry's own task (or cancel the tasks you start when retry is cancelled)",
    )


def stops_after_what_is_not_retryable(chain: Chain, retried: Retried, needed: int) -> None:
    chain.require(
        len(retried.calls) == needed,
        f"{retried.what} calls {needed} time{'s' if needed > 1 else ''}",
        observed=f"it called {len(retried.calls)} times, at t={_times(retried.calls)}",
        hint="retry only when policy.retryable(outcome) is True: a Permanent error or a 404 will fail "
        "the same way again (don't catch every Exception and retry it)"
        if len(retried.calls) > needed
        else "a Transient error is retryable: call again",
    )


def raises_the_permanent_error_at_once(chain: Chain, retried: Retried, bad: Permanent) -> None:
    chain.require(
        retried.run.outcome == "raised" and retried.run.error is bad,
        f"{retried.what} raises the Permanent error at once",
        observed=_described(retried.run),
        hint="re-raise the exception itself when it is not retryable",
    )


def returns_the_404_response(chain: Chain, retried: Retried, not_found: object) -> None:
    value = _finished(chain, retried).value
    chain.require(
        value is not_found,
        f"{retried.what} returns the 404 response",
        observed=f"it returned {value!r}",
        hint="a response is an outcome like any other: return it when it is not retryable",
    )


def cancel_the_caller(
    chain: Chain, retry: Retry, policy: RetryPolicy, latency: float, start: float
) -> tuple[str, str, int]:
    """Scenario: retry a call that always fails, its caller cancelled during the first wait; then 10 s
    more. The scenario's name, how retry's task ended and how many calls there were."""
    call = ScriptedCall([Transient("dropped")], latency=latency)
    what = f"retry({call!r}, {policy!r}) at t={start:g}, its caller cancelled at t={start + latency + 0.5:g}"

    async def cancelled() -> tuple[str, int]:
        await sleep_until(start)
        task = asyncio.ensure_future(retry(call, policy))
        await asyncio.sleep(latency + 0.5)
        task.cancel()
        await asyncio.wait({task})
        how = "cancelled" if task.cancelled() else f"ended with {task.exception() or task.result()!r}"
        await asyncio.sleep(10.0)
        return how, len(call.calls)

    how, calls = run_scenario(chain, cancelled, deadline=start + 100, what=what).unwrap()
    return what, how, calls


def cancellation_propagates_and_stops_the_calls(chain: Chain, what: str, how: str, calls: int) -> None:
    chain.require(
        (how, calls) == ("cancelled", 1),
        f"{what}: CancelledError propagates and no call follows",
        observed=f"its task {how}, after {calls} call(s)",
        hint="catch Exception, never BaseException (or a bare except:): a cancellation is not a failure to retry",
    )


@learner_facing
def check_retry_backoff(
    retry: Retry,
    *,
    wait: float = 1.0,
    asked: int = 5,
    latency: float = 0.5,
    start: float = 1.25,
) -> None:
    """Retryable responses: a 503, a 429 with ``Retry-After: asked`` (waited instead of the delay),
    another 503, then 200; and a 503 for ever with 3 attempts returns the last 503."""
    chain = Chain("retry")
    chain.require_async_function(retry, "retry")
    ok = _response(200)
    script = [_response(503), _response(429, **{"retry-after": str(asked)}), _response(503), ok]
    policy = RetryPolicy(attempts=6, delays=delays_of([wait] * 6), retry_after=retry_after_seconds)
    retried = run_retry(retry, ScriptedCall(script, latency=latency), policy, start)
    outcome = _finished(chain, retried)
    expected, end = _expected_calls(start, latency, [wait, float(asked), wait], 4)
    waits_what_retry_after_asks(chain, retried, expected, wait, asked)
    returns_the_200_when_it_arrives(chain, retried, outcome, ok, end)
    last = _response(503)
    policy = RetryPolicy(attempts=3, delays=delays_of([wait] * 6))
    retried = run_retry(retry, ScriptedCall([_response(503), _response(503), last], latency=latency), policy, start)
    returns_the_last_response_when_attempts_run_out(chain, retried, _finished(chain, retried), last)


def waits_what_retry_after_asks(chain: Chain, retried: Retried, expected: list[float], wait: float, asked: int) -> None:
    calls = retried.calls
    waited = calls[2] - calls[1] - retried.call.latency if len(calls) > 2 else None
    if waited is None or math.isclose(waited, asked):
        hint = "after each retryable outcome (a 503 is one: policy.retryable), wait the next delay and call again"
    elif asked == 0 and math.isclose(waited, wait):
        hint = (
            "Retry-After: 0 asks for no wait: 0.0 is not None, so wait 0 s (test `is not None`, not truthiness: "
            "`retry_after(outcome) or next(delays)` drops a 0)"
        )
    elif asked < wait and math.isclose(waited, wait):
        hint = (
            "wait what Retry-After asks instead of the next delay, even when it is shorter: not max(delay, Retry-After)"
        )
    else:
        hint = "after the 429, wait what policy.retry_after(outcome) says instead of the next delay"
    chain.require(
        calls == expected,
        f"{retried.what} calls at t={_times(expected)}",
        observed=f"the calls started at t={_times(calls)}",
        hint=hint,
    )


def returns_the_200_when_it_arrives(
    chain: Chain, retried: Retried, outcome: Outcome, ok: httpx.Response, end: float
) -> None:
    chain.require(
        outcome.value is ok and math.isclose(retried.ended, end),
        f"{retried.what} returns the 200 response when it arrives (t={end:g})",
        observed=f"it returned {outcome.value!r} at t={retried.ended:g}",
        hint="return the first outcome that is not retryable",
    )


def returns_the_last_response_when_attempts_run_out(
    chain: Chain, retried: Retried, outcome: Outcome, last: httpx.Response
) -> None:
    chain.require(
        outcome.value is last and len(retried.calls) == 3,
        f"{retried.what} returns the last 503 response after 3 calls",
        observed=f"it returned {outcome.value!r} after {len(retried.calls)} calls",
        hint="when the attempts run out on a retryable response, return that last response",
    )


@learner_facing
def check_retry_deadline(
    retry: Retry,
    *,
    deadline: float = 10.0,
    delays: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0),
    latency: float = 0.5,
    asked: int = 30,
    start: float = 4.0,
) -> None:
    """With ``deadline`` seconds from the first call: a wait that would end past it is not started;
    it gives up at once with the last error. A ``Retry-After`` past the deadline: the 429 at once."""
    chain = Chain("retry")
    chain.require_async_function(retry, "retry")
    errors = [Transient(f"failure {n + 1}") for n in range(20)]
    policy = RetryPolicy(attempts=20, delays=delays_of(delays), deadline=deadline)
    retried = run_retry(retry, ScriptedCall(errors, latency=latency), policy, start)
    _require_implemented(chain, retried)
    times, gives_up = _calls_within(start, latency, delays, deadline)
    if retried.run.outcome != "hung":
        starts_no_call_after_the_deadline(chain, retried, start + deadline, start + latency + deadline)
        gives_up_at_once(chain, retried, times, gives_up, start + deadline)
    raises_the_last_error_within_the_deadline(chain, retried, errors[len(times) - 1])
    busy = _response(429, **{"retry-after": str(asked)})
    policy = RetryPolicy(attempts=5, delays=delays_of([1.0] * 5), deadline=deadline, retry_after=retry_after_seconds)
    retried = run_retry(retry, ScriptedCall([busy, _response(200)], latency=latency), policy, start)
    returns_the_429_at_once(chain, retried, _finished(chain, retried), busy, start + latency)


def _calls_within(
    start: float, latency: float, delays: tuple[float, ...], deadline: float
) -> tuple[list[float], float]:
    """When the calls start, every wait ending by ``start + deadline``, and when the last one ends."""
    times, now, n = [start], start + latency, 0
    while n < len(delays) and now + delays[n] <= start + deadline:
        now += delays[n]
        times.append(now)
        now += latency
        n += 1
    return times, now


def starts_no_call_after_the_deadline(chain: Chain, retried: Retried, deadline_at: float, from_answer: float) -> None:
    """No call starts after ``deadline_at``; ``from_answer``: where a deadline counted from the first
    call's end would be."""
    late = [t for t in retried.calls if t > deadline_at]
    chain.require(
        not late,
        f"{retried.what} starts no call after the deadline (t={deadline_at:g})",
        observed=f"calls started at t={_times(retried.calls)}",
        hint="the deadline counts from when the first call started, not from when its answer came: take "
        "loop.time() before the first call"
        if late and max(late) <= from_answer + 1e-9
        else "before each wait, give up if loop.time() + wait would pass the first call's time + deadline",
    )


def raises_the_last_error_within_the_deadline(chain: Chain, retried: Retried, last: Transient) -> None:
    run = retried.run
    chain.require(
        run.outcome == "raised" and run.error is last,
        f"{retried.what} raises the last error ({last!r})",
        observed=_described(run) + f" after {len(retried.calls)} calls",
        hint="when the deadline leaves no time for the next wait, raise the last exception"
        if run.outcome != "hung"
        else "without a deadline the retries go on and on: check policy.deadline before each wait",
    )


def gives_up_at_once(chain: Chain, retried: Retried, times: list[float], gives_up: float, deadline_at: float) -> None:
    calls = retried.calls
    if calls == times:
        hint = (
            "don't sleep out the time left before giving up: when the next wait would end past the deadline, "
            "stop at once"
        )
    elif calls == times[:-1] and math.isclose(times[-1], deadline_at):
        hint = (
            "a wait that ends exactly at the deadline is allowed: give up only when it would end more than "
            "deadline seconds after the first call started (>, not >=)"
        )
    elif len(calls) < len(times) and calls == times[: len(calls)]:
        hint = (
            "the deadline counts from when the first call started, on the loop's clock (which need not start at "
            "0): started = loop.time() before the first call, and give up when loop.time() + wait > started + "
            "deadline"
        )
    else:
        hint = "measure the deadline from the first call's start, on the loop's clock"
    chain.require(
        calls == times and math.isclose(retried.ended, gives_up),
        f"{retried.what} calls at t={_times(times)} and gives up at once, at t={gives_up:g}",
        observed=f"calls at t={_times(calls)}, gave up at t={retried.ended:g}",
        hint=hint,
    )


def returns_the_429_at_once(
    chain: Chain, retried: Retried, outcome: Outcome, busy: httpx.Response, answered: float
) -> None:
    chain.require(
        outcome.value is busy and math.isclose(retried.ended, answered),
        f"{retried.what} returns the 429 at once (t={answered:g}): its Retry-After ends past the deadline",
        observed=f"it returned {outcome.value!r} at t={retried.ended:g} after {len(retried.calls)} calls",
        hint="the deadline applies to the wait Retry-After asks for too",
    )


SERVICE_LATENCY = 0.1  # of every request to the service, in check_retry_service


@dataclass(frozen=True)
class Answered:
    """What one retry() against the service returned: the status, when, after how many requests."""

    status: int
    at: float
    requests: int


@learner_facing
def check_retry_service(
    retry: Retry, *, outage: float = 2.5, window: float = 10.0, seed: int = 6, start: float = 0.75
) -> None:
    """Against the course's service: ``/items`` down for ``outage`` s (503 at once), retried every 1 s
    until it answers; ``/pages`` limited to 2 requests per ``window`` s: the 429's Retry-After is honoured."""
    chain = Chain("retry")
    chain.require_async_function(retry, "retry")
    scenario, items, pages = retry_the_service(chain, retry, outage=outage, window=window, seed=seed, start=start)
    the_items_answer_after_the_outage(chain, scenario, items, outage)
    the_pages_wait_out_retry_after(chain, scenario, pages, outage, window)


def retry_the_service(
    chain: Chain, retry: Retry, *, outage: float, window: float, seed: int, start: float
) -> tuple[str, Answered, Answered]:
    """Scenario: from t=``start``, retry GET /items/1 during an outage, then GET /pages/0 once two
    requests filled the window of /pages. Its name, and the two answers."""
    latency = SERVICE_LATENCY
    service = Service(
        seed=seed,
        faults=Faults(latency=Latency.fixed(latency)),
        endpoints={
            "/items": Faults(latency=Latency.fixed(latency), outages=((0.0, outage),)),
            "/pages": Faults(latency=Latency.fixed(latency), rate_limit=RateLimit(2, window)),
        },
    )
    policy = RetryPolicy(attempts=20, delays=delays_of([1.0] * 20), retry_after=retry_after_seconds)
    scenario = (
        f"retry(GET /items/1, {policy!r}) against the service (seed={seed}) down from t=0 to t={outage:g}, "
        f"then GET /pages/0 after 2 requests of a {window:g} s window"
    )

    async def main() -> list[Answered]:
        await sleep_until(start)
        seen = []
        async with service.client() as client:
            for path in ("/items/1", "/pages/0"):
                if path == "/pages/0":
                    await client.get("/pages/1")
                    await client.get("/pages/2")
                before = len(service.log)
                response = await retry(functools.partial(client.get, path), policy)
                seen.append(Answered(response.status_code, service.now(), len(service.log) - before))
        return seen

    items, pages = run_scenario(chain, main, deadline=start + 1000, what=scenario).unwrap()
    return scenario, items, pages


def the_items_answer_after_the_outage(chain: Chain, scenario: str, items: Answered, outage: float) -> None:
    first_up, latency = math.ceil(outage), SERVICE_LATENCY
    chain.require(
        (items.status, items.requests) == (200, first_up + 1) and math.isclose(items.at, first_up + latency),
        f"{scenario}: GET /items/1 is 200 at t={first_up + latency:g}, after {first_up + 1} requests",
        observed=f"it returned {items.status} at t={items.at:g} after {items.requests} requests",
        hint="a 503 is retryable: wait 1 s (the policy's delay) and try again",
    )


def the_pages_wait_out_retry_after(chain: Chain, scenario: str, pages: Answered, outage: float, window: float) -> None:
    latency = SERVICE_LATENCY
    limited_at = math.ceil(outage) + 3 * latency  # after the two requests that fill the window
    reopens = limited_at + max(1, math.ceil(window - limited_at))  # Retry-After is whole seconds, rounded up
    chain.require(
        (pages.status, pages.requests) == (200, 2) and math.isclose(pages.at, reopens + latency),
        f"{scenario}: GET /pages/0 is 200 at t={reopens + latency:g}, after 2 requests (it waits out Retry-After)",
        observed=f"it returned {pages.status} at t={pages.at:g} after {pages.requests} requests",
        hint="wait what policy.retry_after(response) says when it is not None, instead of the next delay",
    )
