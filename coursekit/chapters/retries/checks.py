"""Chapter 6 checks: backoff_delays, is_retryable, retry_after and retry (semantics: solutions/retries.py).

Each ``check_*`` runs one scenario, named in every message with its arguments, then walks a
:class:`~coursekit.checks.Chain`: defined -> runs -> terminates -> correct. ``retry`` runs on
the virtual clock against :class:`~coursekit.chapters.retries.given.ScriptedCall` stand-ins (which
record when each call started) or the course's HTTP service; ``start`` is when the scenario
begins on the loop's clock, so code that assumes the clock starts at 0 shows up.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
import math
import random
import time
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

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
from coursekit.service import Faults, Latency, RateLimit, Service
from coursekit.virtual_time import VirtualRun, run_virtual

EPOCH = 1_767_225_600.0  # a Date for the responses the checks make


def _times(times: list[float]) -> str:
    return "[" + ", ".join(f"{t:g}" for t in times) + "]"


def _outcome(run: VirtualRun[Any]) -> str:
    if run.outcome == "raised":
        return f"raised {describe_error(run.error)}"
    if run.outcome in ("hung", "blocked"):
        return run.diagnosis.splitlines()[0]
    return f"returned {run.unwrap()[0]!r}"


# ------------------------------------------------------------------ backoff_delays


def _ceiling(base: float, cap: float, n: int) -> float:
    return float(min(cap, base * 2**n))


def _draw(backoff_delays: Callable[..., Any], strategy: str, base: float, cap: float, seed: int, count: int) -> Any:
    return list(itertools.islice(backoff_delays(strategy, base=base, cap=cap, rng=random.Random(seed)), count))


@learner_facing
def check_backoff_delays(
    backoff_delays: Callable[..., Any],
    *,
    strategy: str = "exponential",
    base: float = 1.0,
    cap: float = 30.0,
    seed: int = 7,
    count: int = 12,
) -> None:
    """The first ``count`` delays of ``strategy`` are within its bounds (exactly the value, for constant
    and exponential); jittered ones come from the ``rng`` passed in (a seed repeats them) and spread
    over their range."""
    call = f"backoff_delays({strategy!r}, base={base:g}, cap={cap:g}, rng=random.Random({seed}))"
    chain = Chain("backoff_delays")
    chain.require(
        callable(backoff_delays) and not inspect.iscoroutinefunction(backoff_delays),
        "backoff_delays is a plain function (or generator)",
        observed=f"backoff_delays is {backoff_delays!r}",
        hint="define it with `def` (not `async def`) and `yield` each delay",
    )
    delays = chain.require_returns(
        call,
        lambda: _draw(backoff_delays, strategy, base, cap, seed, count),
        hint="try list(itertools.islice(backoff_delays(...), 5)) in a cell of its own",
    )
    chain.require(
        len(delays) == count,
        f"{call} yields at least {count} delays",
        observed=f"it stopped after {len(delays)}",
        hint="the generator never ends: loop with `while True:` and let the retry loop stop taking delays",
    )
    chain.require(
        all(isinstance(d, int | float) and math.isfinite(d) for d in delays),
        f"{call} yields numbers of seconds",
        observed=f"it yielded {delays!r}",
        hint="yield a float each time",
    )
    previous = base
    for n, delay in enumerate(delays):
        ceiling = _ceiling(base, cap, n)
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
            f"{call}: delay {n} is " + (f"{low:g}" if low == high else f"in [{low:g}, {high:g}]"),
            observed=f"delay {n} is {delay:g} (the first ones: {', '.join(f'{d:.4g}' for d in delays[: n + 1])})",
            hint=hint,
        )
        previous = delay
    if strategy in ("constant", "exponential"):
        return
    again = _draw(backoff_delays, strategy, base, cap, seed, count)
    chain.require(
        again == delays,
        f"{call}: the same seed gives the same delays",
        observed=f"a second random.Random({seed}) gave {', '.join(f'{d:.4g}' for d in again[:4])}, ... "
        f"instead of {', '.join(f'{d:.4g}' for d in delays[:4])}, ...",
        hint="draw every random number from the `rng` argument (rng.uniform), never from the random module",
    )
    ceilings = [_ceiling(base, cap, n) for n in range(count)]
    if strategy == "full":
        spread = any(d < c / 2 for d, c in zip(delays, ceilings, strict=True))
        what, hint = "some delays below half their ceiling", "full jitter draws from 0 up, not from v/2 (equal jitter)"
    elif strategy == "equal":
        spread = any(d < 0.9 * c for d, c in zip(delays, ceilings, strict=True))
        what, hint = "delays spread below their ceiling", "draw a random part: v/2 + rng.uniform(0, v/2)"
    else:
        spread = len({round(d, 9) for d in delays}) > 2
        what, hint = "delays that differ", "draw each delay with rng.uniform(base, 3 * previous)"
    chain.require(
        spread,
        f"{call}: jitter spreads the delays ({what})",
        observed=f"the delays were {', '.join(f'{d:.4g}' for d in delays)}",
        hint=hint,
    )
    if strategy in ("full", "equal"):
        _require_whole_range(chain, backoff_delays, call, strategy, base, cap, seed)
    elif cap > 3 * base:
        _require_growth(chain, backoff_delays, call, base, cap, seed)


COVERAGE_DRAWS = 200  # a uniform draw misses a tenth of its range 200 times in a row with probability 0.9**200


def _many(
    chain: Chain, backoff_delays: Callable[..., Any], call: str, strategy: str, base: float, cap: float, seed: int
) -> list[float]:
    """The first ``COVERAGE_DRAWS`` delays, for the properties only many draws show."""
    try:
        many: list[float] = _draw(backoff_delays, strategy, base, cap, seed, COVERAGE_DRAWS)
    except Exception as error:
        chain.fail(
            f"{call} runs without raising for {COVERAGE_DRAWS} delays",
            observed=f"raised {describe_error(error)}",
            hint="try list(itertools.islice(backoff_delays(...), 200)) in a cell of its own",
        )
    chain.require(
        len(many) == COVERAGE_DRAWS,
        f"{call} yields at least {COVERAGE_DRAWS} delays",
        observed=f"it stopped after {len(many)}",
        hint="the generator never ends: loop with `while True:` and let the retry loop stop taking delays",
    )
    return many


def _require_whole_range(
    chain: Chain, backoff_delays: Callable[..., Any], call: str, strategy: str, base: float, cap: float, seed: int
) -> None:
    """Over many draws, full and equal jitter come close to both ends of their range: uniform in it,
    not in a part of it."""
    bottom = "0" if strategy == "full" else "v/2"
    what = f"[{bottom}, v]"
    many = _many(chain, backoff_delays, call, strategy, base, cap, seed)
    positions = []  # where each delay sits in its range: 0 at its low end, 1 at v
    for n, delay in enumerate(many):
        ceiling = _ceiling(base, cap, n)
        low = 0.0 if strategy == "full" else ceiling / 2
        positions.append((delay - low) / (ceiling - low))
    lowest, highest = min(positions), max(positions)
    if lowest < -1e-9 or highest > 1 + 1e-9:
        hint = f"every delay stays in {what}, v = min(cap, base * 2**n), however many you take"
    elif highest < 0.9:
        hint = (
            "the top of the range is never reached: the random part of equal jitter spans all of v/2 "
            "(v/2 + rng.uniform(0, v/2))"
            if strategy == "equal"
            else "the top of the range is never reached: full jitter draws rng.uniform(0, v), up to v itself"
        )
    else:
        hint = (
            "the bottom of the range is never reached: equal jitter draws from v/2 up (v/2 + rng.uniform(0, v/2))"
            if strategy == "equal"
            else "the bottom of the range is never reached: full jitter draws from 0 up (rng.uniform(0, v))"
        )
    chain.require(
        lowest <= 0.1 and highest >= 0.9,
        f"{call}: over {COVERAGE_DRAWS} delays, jitter covers {what} (some in its lowest tenth, some in its highest)",
        observed=f"the delays sat from {lowest:.0%} to {highest:.0%} of {what} (0% at {bottom}, 100% at v)",
        hint=hint,
    )


def _require_growth(
    chain: Chain, backoff_delays: Callable[..., Any], call: str, base: float, cap: float, seed: int
) -> None:
    """Decorrelated jitter's range follows the delay before: over many draws, some go past 3 * base,
    which a range fixed at [base, 3 * base] never does."""
    many = _many(chain, backoff_delays, call, "decorrelated", base, cap, seed)
    longest = max(many)
    chain.require(
        longest > 3 * base * (1 + 1e-9),
        f"{call}: over {COVERAGE_DRAWS} delays, some pass 3 * base = {3 * base:g} (each range grows with the "
        "delay before)",
        observed=f"the longest of {COVERAGE_DRAWS} delays was {longest:.4g}",
        hint="previous is the delay you yielded before (base only for the first): draw "
        "rng.uniform(base, 3 * previous), cap it, yield it, and keep it as the next previous",
    )


# ------------------------------------------------------------------ is_retryable


def _response(status: int, **headers: str) -> httpx.Response:
    request = httpx.Request("GET", "http://service.test/items/1")
    return httpx.Response(status, headers=headers, request=request)


RESPONSES = (200, 201, 204, 301, 304, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504)


@learner_facing
def check_is_retryable_responses(is_retryable: Callable[..., Any], *, statuses: tuple[int, ...] = RESPONSES) -> None:
    """A response is retryable exactly when its status is 429 or 5xx."""
    chain = Chain("is_retryable")
    chain.require(
        callable(is_retryable) and not inspect.iscoroutinefunction(is_retryable),
        "is_retryable is a plain function",
        observed=f"is_retryable is {is_retryable!r}",
        hint="define it with `def`",
    )
    for status in statuses:
        expected = status == 429 or 500 <= status <= 599
        _require_answer(chain, is_retryable, _response(status), f"a {status} response", expected)


def _require_answer(chain: Chain, is_retryable: Callable[..., Any], outcome: Any, what: str, expected: bool) -> None:
    call = f"is_retryable({what})"
    answer = chain.require_returns(
        call,
        lambda: is_retryable(outcome),
        hint="an outcome is either an httpx.Response or an exception: check which with isinstance first",
    )
    if isinstance(outcome, httpx.Response) or isinstance(outcome, httpx.HTTPStatusError):
        status = outcome.status_code if isinstance(outcome, httpx.Response) else outcome.response.status_code
        hint = (
            "429 Too Many Requests is the server asking you to come back later: retry it (after Retry-After)"
            if status == 429
            else "every 5xx is the server's failure, worth another try"
            if status >= 500
            else "a 4xx other than 429 is the client's mistake: the same request fails the same way again"
            if status >= 400
            else "a success (or redirect) is an answer: nothing to retry"
        )
        if isinstance(outcome, httpx.HTTPStatusError):
            hint += " (an HTTPStatusError carries its .response: classify that)"
    elif expected:
        hint = "timeouts, network errors (httpx.NetworkError) and RemoteProtocolError are transient: retry them"
    else:
        hint = (
            "this error will not go away on its own (a bad URL, a bug): retrying only hides it; "
            "don't retry every Exception, nor every httpx.TransportError (UnsupportedProtocol is one)"
        )
    chain.require(
        answer is expected,
        f"{call} is {expected}",
        observed=f"it returned {answer!r}",
        hint=hint,
    )


def _errors() -> list[tuple[BaseException, str, bool]]:
    request = httpx.Request("GET", "http://service.test/items/1")
    return [
        (httpx.ConnectError("connection refused", request=request), "httpx.ConnectError", True),
        (httpx.ReadError("connection reset", request=request), "httpx.ReadError", True),
        (httpx.ReadTimeout("timed out", request=request), "httpx.ReadTimeout", True),
        (httpx.ConnectTimeout("timed out", request=request), "httpx.ConnectTimeout", True),
        (httpx.RemoteProtocolError("server disconnected", request=request), "httpx.RemoteProtocolError", True),
        (
            httpx.HTTPStatusError("503", request=request, response=_response(503)),
            "httpx.HTTPStatusError of a 503",
            True,
        ),
        (
            httpx.HTTPStatusError("404", request=request, response=_response(404)),
            "httpx.HTTPStatusError of a 404",
            False,
        ),
        (httpx.UnsupportedProtocol("ftp is not supported", request=request), "httpx.UnsupportedProtocol", False),
        (httpx.InvalidURL("bad url"), "httpx.InvalidURL", False),
        (ValueError("bad argument"), "ValueError", False),
        (KeyError("id"), "KeyError", False),
        (TypeError("not callable"), "TypeError", False),
    ]


@learner_facing
def check_is_retryable_errors(is_retryable: Callable[..., Any], *, only: tuple[str, ...] = ()) -> None:
    """Timeouts, network errors, a broken exchange and a 5xx HTTPStatusError are retryable; a 4xx
    HTTPStatusError, an unusable URL or protocol and programming errors are not."""
    chain = Chain("is_retryable")
    for error, what, expected in _errors():
        if not only or any(name in what for name in only):
            _require_answer(chain, is_retryable, error, what, expected)


@learner_facing
def check_is_retryable_service(is_retryable: Callable[..., Any], *, seed: int = 3, start: float = 1.5) -> None:
    """Real answers of the course's service: a page (200), a missing page (404), an outage (503), a
    rate-limited request (429)."""
    chain = Chain("is_retryable")
    service = Service(
        seed=seed,
        faults=Faults(latency=Latency.fixed(0.1)),
        endpoints={"/items": Faults(outages=((0.0, 5.0),)), "/pages/1": Faults(rate_limit=RateLimit(1, 10.0))},
    )

    async def main() -> list[httpx.Response]:
        await asyncio.sleep(start)
        async with service.client() as client:
            return [await client.get(path) for path in ("/pages/0", "/pages/999", "/items/1", "/pages/1", "/pages/1")]

    responses = run_virtual(main, deadline=start + 60).unwrap()
    for response, label in zip(responses, ("page", "missing page", "outage", "first", "rate-limited"), strict=True):
        if label == "first":
            continue
        what = f"the service's {label} answer ({response.status_code}, seed={seed})"
        _require_answer(chain, is_retryable, response, what, response.status_code in (429, 503))


# ------------------------------------------------------------------ retry_after


@learner_facing
def check_retry_after(
    retry_after: Callable[..., Any], *, seconds: int = 3, later: int = 7, seed: int = 4, start: float = 2.0
) -> None:
    """``Retry-After`` in seconds and as an HTTP date (read against the response's ``Date``), one in the
    past (0), none or unreadable (None); the service's own 429 with an HTTP date; and a date ``later`` s
    ahead of the wall clock, with no ``Date`` or an unreadable one (read against ``time.time()``)."""
    chain = Chain("retry_after")
    chain.require(
        callable(retry_after) and not inspect.iscoroutinefunction(retry_after),
        "retry_after is a plain function",
        observed=f"retry_after is {retry_after!r}",
        hint="define it with `def`",
    )
    date = formatdate(EPOCH, usegmt=True)
    cases: list[tuple[str, httpx.Response, float | None, str]] = [
        (
            f"Retry-After: {seconds}",
            _response(429, **{"retry-after": str(seconds), "date": date}),
            float(seconds),
            "a number is seconds: float(value)",
        ),
        (
            f"Retry-After: {formatdate(EPOCH + later, usegmt=True)} with Date: {date}",
            _response(503, **{"retry-after": formatdate(EPOCH + later, usegmt=True), "date": date}),
            float(later),
            "an HTTP date: email.utils.parsedate_to_datetime(value), minus the response's own Date header "
            "(not your clock: the server's and yours differ)",
        ),
        (
            f"Retry-After: {formatdate(EPOCH - later, usegmt=True)} (in the past) with Date: {date}",
            _response(503, **{"retry-after": formatdate(EPOCH - later, usegmt=True), "date": date}),
            0.0,
            "a date already past means no wait: never below 0.0",
        ),
        ("no Retry-After", _response(503, date=date), None, "no header: None"),
        ("Retry-After: soon", _response(429, **{"retry-after": "soon", "date": date}), None, "unreadable: None"),
    ]
    service = Service(seed=seed, faults=Faults(rate_limit=RateLimit(1, 10.0, retry_after="http-date")))

    async def rate_limited() -> httpx.Response:
        await asyncio.sleep(start)
        async with service.client() as client:
            await client.get("/items/1")
            await asyncio.sleep(2.5)
            return await client.get("/items/1")  # at t=2.55 of the service's clock: the window reopens at t=10

    response = run_virtual(rate_limited, deadline=start + 60).unwrap()
    cases.append(
        (
            f"the service's 429 at t=2.55 of a 10 s window (Retry-After: {response.headers['retry-after']})",
            response,
            8.0,
            "read the date against the response's Date header",
        )
    )
    # Without a readable Date the date is read against the wall clock: one `later` s ahead of it (named
    # without its text in the messages, which the notebook stores).
    ahead = formatdate(math.ceil(time.time()) + later, usegmt=True)
    wall_clock = {
        f"Retry-After: the HTTP date {later} s from now and no Date": _response(503, **{"retry-after": ahead}),
        f"Retry-After: the HTTP date {later} s from now and an unreadable Date: yesterday": _response(
            503, **{"retry-after": ahead, "date": "yesterday"}
        ),
    }
    for what, case in wall_clock.items():
        hint = (
            "no Date header: measure the date against time.time()"
            if "no Date" in what
            else "a Date that cannot be read is as good as none: measure against time.time() (catch the parser's "
            "TypeError/ValueError around the Date too)"
        )
        cases.append((what, case, float(later), hint))
    for what, case, expected, hint in cases:
        call = f"retry_after(a {case.status_code} response with {what})"
        from_now = what in wall_clock  # `later` s of the wall clock, give or take the second formatdate drops
        answer = chain.require_returns(
            call,
            functools.partial(retry_after, case),
            hint=hint
            if from_now
            else "a missing or unreadable header gives None: check before parsing, and catch the parser's "
            "TypeError/ValueError",
        )
        number = isinstance(answer, int | float) and not isinstance(answer, bool)
        if expected is None:
            ok = answer is None
        elif from_now:
            ok = number and expected - 2.0 <= answer <= expected + 1.0
        else:
            ok = number and math.isclose(answer, expected)
        chain.require(
            ok,
            f"{call} is " + (f"about {expected!r} (the date minus time.time())" if from_now else f"{expected!r}"),
            observed=f"it returned {answer!r}",
            hint=hint,
        )


# ------------------------------------------------------------------ retry


def _run_retry(
    retry: Callable[..., Any], call: ScriptedCall, policy: RetryPolicy, start: float
) -> VirtualRun[tuple[Any, float]]:
    async def main() -> tuple[Any, float]:
        await asyncio.sleep(start)
        value = await retry(call, policy)
        return value, asyncio.get_running_loop().time()

    return run_virtual(main, deadline=start + 1000)


def _retry_call(call: ScriptedCall, policy: RetryPolicy, start: float) -> str:
    return f"retry({call!r}, {policy!r}) at t={start:g}"


def _require_retry_started(chain: Chain, retry: Callable[..., Any]) -> None:
    chain.require_async_function(retry, "retry")


def _require_implemented(chain: Chain, run: VirtualRun[Any], what: str) -> None:
    """The release's placeholder gets its own message, before any property of the calls."""
    if isinstance(run.error, NotImplementedError):
        chain.require_finished(run, what)


def _expected_calls(start: float, latency: float, waits: list[float], calls: int) -> tuple[list[float], float]:
    times, now = [], start
    for n in range(calls):
        times.append(now)
        now += latency
        if n < calls - 1:
            now += waits[n]
    return times, now


def _calls_hint(seen: int, expected: int, attempts: int) -> str:
    if seen == expected + 1 and expected == attempts:
        return "attempts counts every call, the first included: attempts=N means 1 call and N-1 retries"
    if seen > expected:
        return "stop when policy.retryable(outcome) is False, or when the calls reach policy.attempts"
    return "retry while policy.retryable(outcome) is True: catch the exception (or look at the value) and call again"


@learner_facing
def check_retry_attempts(
    retry: Callable[..., Any],
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
    script: list[Any] = [Transient(f"failure {n + 1}") for n in range(failures)] + ["ok"]
    call = ScriptedCall(script, latency=latency)
    policy = RetryPolicy(attempts=attempts, delays=delays_of(delays))
    what = _retry_call(call, policy, start)
    chain = Chain("retry")
    _require_retry_started(chain, retry)
    run = _run_retry(retry, call, policy, start)
    _require_implemented(chain, run, what)
    calls = min(failures + 1, attempts, len(delays) + 1)
    ran_out = "delays" if calls < min(failures + 1, attempts) else "attempts"
    expected_times, end = _expected_calls(start, latency, list(delays), calls)
    if run.outcome in ("raised", "returned", "hung"):
        seen = len(call.calls)
        chain.require(
            seen == calls,
            f"{what} calls {calls} times",
            observed=f"it called {seen} times, at t={_times(call.calls)}, then {_outcome(run)}",
            hint="the policy has only "
            f"{len(delays)} delay{'s' if len(delays) != 1 else ''}: when they run out, give up (next(delays, None) "
            "is None) even if attempts are left"
            if ran_out == "delays" and seen > calls
            else _calls_hint(seen, calls, attempts),
        )
    if calls == failures + 1:
        chain.require_finished(run, what)
        value, returned = run.unwrap()
        chain.require(
            value == "ok",
            f"{what} returns the call's result",
            observed=f"it returned {value!r}",
            hint="return what the successful call returned",
        )
    else:
        last = script[calls - 1]
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
            f"{what} raises the last error ({last!r}) when the {ran_out} run out",
            observed=_outcome(run),
            hint=hint,
        )
        returned = run.elapsed
    waits = [later - earlier - latency for earlier, later in itertools.pairwise(call.calls)]
    restarted = (
        len(waits) >= 2 and len(set(delays[: len(waits)])) > 1 and all(math.isclose(wait, delays[0]) for wait in waits)
    )
    chain.require(
        call.calls == expected_times,
        f"{what} calls at t={_times(expected_times)}",
        observed=f"the calls started at t={_times(call.calls)}",
        hint="every wait was the first delay: make the iterator once per retry() call (delays = policy.delays(), "
        "before the loop) and take next(delays) from it; each new policy.delays() starts over"
        if restarted
        else "wait the policy's delays in order (a fresh policy.delays() per retry() call), after each failed call "
        "ends, with await asyncio.sleep(delay)",
    )
    chain.require(
        math.isclose(returned, end),
        f"{what} ends when the last call does (t={end:g})",
        observed=f"it ended at t={returned:g}",
        hint="after the last call, don't wait again: there is nothing to wait for",
    )


@learner_facing
def check_retry_not_retryable(retry: Callable[..., Any], *, latency: float = 0.25, start: float = 5.0) -> None:
    """Outcomes that are not retryable end it after that call: an error propagates (the same object),
    a 404 or a 200 is returned; and a cancelled caller stops retrying."""
    chain = Chain("retry")
    _require_retry_started(chain, retry)
    bad = Permanent("bad request")
    not_found = _response(404)
    policy = RetryPolicy(attempts=5, delays=delays_of([1.0] * 5))
    for script, expected in (
        ([bad, "ok"], "raise"),
        ([not_found, "ok"], "return"),
        ([Transient("dropped"), not_found, "ok"], "return"),
    ):
        call = ScriptedCall(script, latency=latency)
        what = _retry_call(call, policy, start)
        run = _run_retry(retry, call, policy, start)
        _require_implemented(chain, run, what)
        needed = len(script) - 1
        if run.outcome in ("raised", "returned"):
            chain.require(
                len(call.calls) == needed,
                f"{what} calls {needed} time{'s' if needed > 1 else ''}",
                observed=f"it called {len(call.calls)} times, at t={_times(call.calls)}",
                hint="retry only when policy.retryable(outcome) is True: a Permanent error or a 404 will fail "
                "the same way again (don't catch every Exception and retry it)"
                if len(call.calls) > needed
                else "a Transient error is retryable: call again",
            )
        if expected == "raise":
            chain.require(
                run.outcome == "raised" and run.error is bad,
                f"{what} raises the Permanent error at once",
                observed=_outcome(run),
                hint="re-raise the exception itself when it is not retryable",
            )
        else:
            chain.require_finished(run, what)
            chain.require(
                run.unwrap()[0] is script[needed - 1],
                f"{what} returns the 404 response",
                observed=f"it returned {run.unwrap()[0]!r}",
                hint="a response is an outcome like any other: return it when it is not retryable",
            )
    call = ScriptedCall([Transient("dropped")], latency=latency)
    what = _retry_call(call, policy, start) + f", its caller cancelled at t={start + latency + 0.5:g}"

    async def cancelled() -> tuple[str, int]:
        await asyncio.sleep(start)
        task = asyncio.create_task(retry(call, policy))
        await asyncio.sleep(latency + 0.5)
        task.cancel()
        await asyncio.wait({task})
        how = "cancelled" if task.cancelled() else f"ended with {task.exception() or task.result()!r}"
        await asyncio.sleep(10.0)
        return how, len(call.calls)

    run = run_virtual(cancelled, deadline=start + 100)
    chain.require_finished(run, what)
    how, calls = run.unwrap()
    chain.require(
        (how, calls) == ("cancelled", 1),
        f"{what}: CancelledError propagates and no call follows",
        observed=f"its task {how}, after {calls} call(s)",
        hint="catch Exception, never BaseException (or a bare except:): a cancellation is not a failure to retry",
    )


@learner_facing
def check_retry_backoff(
    retry: Callable[..., Any],
    *,
    wait: float = 1.0,
    asked: int = 5,
    latency: float = 0.5,
    start: float = 1.25,
) -> None:
    """Retryable responses: a 503, a 429 with ``Retry-After: asked`` (waited instead of the delay),
    another 503, then 200; and a 503 for ever with 3 attempts returns the last 503."""
    chain = Chain("retry")
    _require_retry_started(chain, retry)
    ok = _response(200)
    script = [_response(503), _response(429, **{"retry-after": str(asked)}), _response(503), ok]
    call = ScriptedCall(script, latency=latency)
    policy = RetryPolicy(attempts=6, delays=delays_of([wait] * 6), retry_after=retry_after_seconds)
    what = _retry_call(call, policy, start)
    run = _run_retry(retry, call, policy, start)
    chain.require_finished(run, what)
    expected, end = _expected_calls(start, latency, [wait, float(asked), wait], 4)
    chain.require(
        call.calls == expected,
        f"{what} calls at t={_times(expected)}",
        observed=f"the calls started at t={_times(call.calls)}",
        hint="after the 429, wait what policy.retry_after(outcome) says instead of the next delay"
        if len(call.calls) > 2 and call.calls[2] - call.calls[1] != asked + latency
        else "after each retryable outcome (a 503 is one: policy.retryable), wait the next delay and call again",
    )
    chain.require(
        run.unwrap()[0] is ok and math.isclose(run.unwrap()[1], end),
        f"{what} returns the 200 response when it arrives (t={end:g})",
        observed=f"it returned {run.unwrap()[0]!r} at t={run.unwrap()[1]:g}",
        hint="return the first outcome that is not retryable",
    )
    last = _response(503)
    call = ScriptedCall([_response(503), _response(503), last], latency=latency)
    policy = RetryPolicy(attempts=3, delays=delays_of([wait] * 6))
    what = _retry_call(call, policy, start)
    run = _run_retry(retry, call, policy, start)
    chain.require_finished(run, what)
    chain.require(
        run.unwrap()[0] is last and len(call.calls) == 3,
        f"{what} returns the last 503 response after 3 calls",
        observed=f"it returned {run.unwrap()[0]!r} after {len(call.calls)} calls",
        hint="when the attempts run out on a retryable response, return that last response",
    )


@learner_facing
def check_retry_deadline(
    retry: Callable[..., Any],
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
    _require_retry_started(chain, retry)
    errors = [Transient(f"failure {n + 1}") for n in range(20)]
    call = ScriptedCall(errors, latency=latency)
    policy = RetryPolicy(attempts=20, delays=delays_of(delays), deadline=deadline)
    what = _retry_call(call, policy, start)
    run = _run_retry(retry, call, policy, start)
    _require_implemented(chain, run, what)
    times, now, n = [start], start + latency, 0
    while n < len(delays) and now + delays[n] <= start + deadline:
        now += delays[n]
        times.append(now)
        now += latency
        n += 1
    late = [t for t in call.calls if t > start + deadline]
    if run.outcome != "hung":
        chain.require(
            not late,
            f"{what} starts no call after the deadline (t={start + deadline:g})",
            observed=f"calls started at t={_times(call.calls)}",
            hint="before each wait, give up if loop.time() + wait would pass the first call's time + deadline",
        )
    chain.require(
        run.outcome == "raised" and run.error is errors[len(times) - 1],
        f"{what} raises the last error ({errors[len(times) - 1]!r})",
        observed=_outcome(run) + f" after {len(call.calls)} calls",
        hint="when the deadline leaves no time for the next wait, raise the last exception"
        if run.outcome != "hung"
        else "without a deadline the retries go on and on: check policy.deadline before each wait",
    )
    chain.require(
        call.calls == times and math.isclose(run.elapsed, now),
        f"{what} calls at t={_times(times)} and gives up at once, at t={now:g}",
        observed=f"calls at t={_times(call.calls)}, gave up at t={run.elapsed:g}",
        hint="don't sleep out the time left before giving up: when the next wait would end past the deadline, "
        "stop at once"
        if call.calls == times
        else "measure the deadline from the first call, on the loop's clock",
    )
    busy = _response(429, **{"retry-after": str(asked)})
    call = ScriptedCall([busy, _response(200)], latency=latency)
    policy = RetryPolicy(attempts=5, delays=delays_of([1.0] * 5), deadline=deadline, retry_after=retry_after_seconds)
    what = _retry_call(call, policy, start)
    run = _run_retry(retry, call, policy, start)
    chain.require_finished(run, what)
    chain.require(
        run.unwrap()[0] is busy and math.isclose(run.unwrap()[1], start + latency),
        f"{what} returns the 429 at once (t={start + latency:g}): its Retry-After ends past the deadline",
        observed=f"it returned {run.unwrap()[0]!r} at t={run.unwrap()[1]:g} after {len(call.calls)} calls",
        hint="the deadline applies to the wait Retry-After asks for too",
    )


@learner_facing
def check_retry_service(
    retry: Callable[..., Any], *, outage: float = 2.5, window: float = 10.0, seed: int = 6, start: float = 0.75
) -> None:
    """Against the course's service: ``/items`` down for ``outage`` s (503 at once), retried every 1 s
    until it answers; ``/pages`` limited to 2 requests per ``window`` s: the 429's Retry-After is honoured."""
    chain = Chain("retry")
    _require_retry_started(chain, retry)
    latency = 0.1
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

    async def main() -> list[tuple[int, float, int]]:
        await asyncio.sleep(start)
        seen = []
        async with service.client() as client:
            for path in ("/items/1", "/pages/0"):
                if path == "/pages/0":
                    await client.get("/pages/1")
                    await client.get("/pages/2")
                before = len(service.log)
                response = await retry(lambda path=path: client.get(path), policy)
                seen.append((response.status_code, service.now(), len(service.log) - before))
        return seen

    run = run_virtual(main, deadline=start + 1000)
    chain.require_finished(run, scenario)
    (items, items_at, items_calls), (pages, pages_at, pages_calls) = run.unwrap()
    first_up = math.ceil(outage)
    chain.require(
        (items, items_calls) == (200, first_up + 1) and math.isclose(items_at, first_up + latency),
        f"{scenario}: GET /items/1 is 200 at t={first_up + latency:g}, after {first_up + 1} requests",
        observed=f"it returned {items} at t={items_at:g} after {items_calls} requests",
        hint="a 503 is retryable: wait 1 s (the policy's delay) and try again",
    )
    limited_at = first_up + 3 * latency  # after the two requests that fill the window
    reopens = limited_at + max(1, math.ceil(window - limited_at))  # Retry-After is whole seconds, rounded up
    chain.require(
        (pages, pages_calls) == (200, 2) and math.isclose(pages_at, reopens + latency),
        f"{scenario}: GET /pages/0 is 200 at t={reopens + latency:g}, after 2 requests (it waits out Retry-After)",
        observed=f"it returned {pages} at t={pages_at:g} after {pages_calls} requests",
        hint="wait what policy.retry_after(response) says when it is not None, instead of the next delay",
    )
