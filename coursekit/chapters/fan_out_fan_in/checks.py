"""Chapter 4 checks: fetch_all, run_all, merge and first_success (see solutions/fan_out_fan_in.py).

``fetch_all`` talks to the course's HTTP service (:mod:`coursekit.service`) in-process,
through :class:`coursekit.service.connections.Connections`, which models each client's
connection pool (a new connection costs ``CONNECT_TIME`` s) and counts the clients made.

Each ``check_*`` is a scenario plus named properties: the scenario runs the learner's function on
a virtual clock and returns what it observed; each property, in order, passes the check's
:class:`~coursekit.checks.Chain` or fails it with its own hint: defined -> runs -> terminates ->
correct -> respects limits. Its defaults are the scenario of the visible test cell.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections import Counter
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

import httpx

from coursekit.analysis import ended_after, idle_slots, in_flight, running_at
from coursekit.chapters.fan_out_fan_in.analysis import peak_requests
from coursekit.chapters.fan_out_fan_in.given import CONNECT_TIME, body_of, items_service
from coursekit.checks import Chain, describe_error, describe_values, leaf_exceptions, learner_facing
from coursekit.events import Event, Kind, emit
from coursekit.scenario import (
    Outcome,
    alone_on_the_clock,
    cancellation_sweep,
    cancelled_at,
    ends_cancelled_at_each_wait,
    leaves_no_task_at_any_wait,
    sleep_until,
    timed_call,
)
from coursekit.service import BASE_URL
from coursekit.service.connections import Connections
from coursekit.virtual_time import VirtualRun, run_virtual
from coursekit.workload import ItemFailed, Workload, find_item_failure

DEADLINE = 120.0  # simulated seconds; every scenario below needs far less
DEFAULT_LIMIT = 10  # fetch_all's limit when none is given, as the statement's signature says

# ------------------------------------------------------- the learner's subjects

FetchAll = Callable[..., Awaitable[object]]  # fetch_all(client, urls, *, limit=10) -> list
RunAll = Callable[..., Awaitable[object]]  # run_all(handle, items) -> list
Merge = Callable[..., AsyncGenerator[object, None]]  # async def merge(*streams): ... yield
Attempt = Callable[[], Awaitable[object]]
FirstSuccess = Callable[..., Awaitable[object]]  # first_success(*attempts)


# ------------------------------------------------------------ cancellation sweep


@dataclass(frozen=True)
class SweepHints:
    """What a cancelled call of ``what`` must do, and the hints when it does not: ``swallowed`` when it
    ended otherwise than cancelled; ``left`` when a task was left running (None: the statement asks
    nothing of a cancelled call's tasks)."""

    what: str
    swallowed: str
    left: str | None = None


def cancelled_from_t0(chain: Chain, hints: SweepHints, scenario: Callable[[float], VirtualRun[Outcome]]) -> None:
    """The kit's cancellation sweep (:func:`cancellation_sweep`): ``scenario(at)`` calls at t=0 and
    cancels at ``at``; then the chapter's properties of the cancelled runs: each ends cancelled and,
    if ``hints.left``, leaves no task it started running."""
    swept = cancellation_sweep(chain, hints.what, scenario)
    ends_cancelled_at_each_wait(chain, hints.what, swept, hint=hints.swallowed)
    if hints.left is not None:
        leaves_no_task_at_any_wait(chain, hints.what, swept, hint=hints.left)


# --------------------------------------------------------------- fetch_all


@dataclass
class FetchCase:
    """check_fetch_all's scenario: the items listed, the limit, and which items fail, and how."""

    items: list[int]
    limit: int | None
    failing: set[int]
    refused: set[int]
    hanging: set[int]
    start: float
    unreachable: set[int] = field(default_factory=set)

    @property
    def paths(self) -> list[str]:
        return [f"/items/{n}" for n in self.items]

    @property
    def allowed(self) -> int:
        return DEFAULT_LIMIT if self.limit is None else self.limit

    @property
    def called(self) -> str:
        return f"limit={self.limit}" if self.limit is not None else f"the default limit={DEFAULT_LIMIT}"


@dataclass
class FetchRun:
    """What fetch_all did: the run, the paths the service was asked for, and the clients and
    connections made."""

    run: VirtualRun[object]
    sent: Counter[str]
    clients: int
    opened: int


@learner_facing
def check_fetch_all(
    fetch_all: FetchAll,
    *,
    items: Sequence[int] = (1, 2, 3, 4, 5, 6, 7, 8),
    limit: int | None = 3,
    latency: float = 1.0,
    slow: Sequence[tuple[int, float]] = ((2, 2.5),),
    failing: Iterable[int] = (4,),
    refused: Iterable[int] = (),
    hanging: Iterable[int] = (6,),
    timeout: float = 5.0,
    start: float = 1.5,
    unreachable: Iterable[int] = (),
    cancel_each_wait: bool = False,
) -> None:
    """fetch_all(client, urls, limit=limit) with ``urls`` = ``/items/<n>`` for n in ``items``, at t = ``start``,
    through a client with a ``timeout`` s timeout (see :func:`items_service` for the faults);
    ``limit=None``: fetch_all(client, urls), whose default limit is 10. With ``cancel_each_wait``,
    then the same call again from t=0, cancelled at each of its waits."""
    chain = Chain("fetch_all")
    chain.require_async_function(fetch_all, "fetch_all")
    case = FetchCase(list(items), limit, set(failing), set(refused), set(hanging), start, set(unreachable))
    seen = fetch_all_scenario(fetch_all, case, latency=latency, slow=slow, timeout=timeout)
    one_failing_url_does_not_raise(chain, seen.run)
    chain.require_finished(seen.run, "fetch_all")
    results = returns_one_entry_per_url(chain, seen.run.unwrap(), case)
    requests_every_url_once_per_listing(chain, seen, case)
    bodies_are_in_place(chain, results, case)
    errors_are_in_place(chain, results, case)
    chain.require_no_leftover_tasks(seen.run, "fetch_all")
    sends_through_the_one_client(chain, seen, case)
    peak = peak_requests(seen.run.events)
    requests_run_concurrently(chain, peak, case)
    stays_within_the_limit(chain, peak, case)
    fills_a_free_place_at_once(chain, seen.run, case)
    if cancel_each_wait:
        fetch_all_cancelled(chain, fetch_all, case, latency=latency, slow=slow, timeout=timeout)


def fetch_all_cancelled(
    chain: Chain,
    fetch_all: FetchAll,
    case: FetchCase,
    *,
    latency: float,
    slow: Sequence[tuple[int, float]],
    timeout: float,
) -> None:
    """The cancellation sweep of fetch_all, each run with a fresh service and client."""
    urls = [BASE_URL + path for path in case.paths]

    def scenario(at: float) -> VirtualRun[Outcome]:
        service = items_service(
            latency=latency,
            slow=slow,
            failing=case.failing,
            refused=case.refused,
            hanging=case.hanging,
            items=case.items,
        )
        connections = Connections(service, connect_time=CONNECT_TIME)

        async def main() -> Outcome:
            service.start()
            async with _client(connections, case, timeout) as client:
                if case.limit is None:
                    return await cancelled_at(lambda: fetch_all(client, list(urls)), at)
                return await cancelled_at(lambda: fetch_all(client, list(urls), limit=case.limit), at)

        with connections.intercept():
            return run_virtual(main, deadline=DEADLINE)

    cancelled_from_t0(chain, FETCH_ALL_CANCELLED, scenario)


FETCH_ALL_CANCELLED = SweepHints(
    "fetch_all",
    swallowed="catch only the request's errors (httpx.HTTPError, or Exception): a bare `except:` or "
    "`except BaseException` stores the cancellation as a result and goes on",
    left="a task you started was left running when fetch_all was cancelled: awaiting your tasks one by one "
    "cancels only the one being awaited. Start them in a TaskGroup, or gather() them (a cancelled gather "
    "cancels them all)",
)


def fetch_all_scenario(
    fetch_all: FetchAll, case: FetchCase, *, latency: float, slow: Sequence[tuple[int, float]], timeout: float
) -> FetchRun:
    """At t = start, fetch_all(client, urls[, limit=limit]) through a new client of the items service."""
    service = items_service(
        latency=latency, slow=slow, failing=case.failing, refused=case.refused, hanging=case.hanging, items=case.items
    )
    connections = Connections(service, connect_time=CONNECT_TIME)
    urls = [BASE_URL + path for path in case.paths]
    refused: Counter[str] = Counter()

    async def scenario() -> object:
        await asyncio.sleep(case.start)
        service.start()
        async with _client(connections, case, timeout, refused) as client:
            if case.limit is None:
                return await fetch_all(client, list(urls))
            return await fetch_all(client, list(urls), limit=case.limit)

    with connections.intercept():
        run = run_virtual(scenario, deadline=case.start + DEADLINE)
    sent = Counter(record.path for record in service.log) + refused
    return FetchRun(run, sent, connections.clients, connections.opened)


class _Unreachable(httpx.AsyncBaseTransport):
    """A client's transport on which the connection to each of ``paths`` is refused (httpx.ConnectError,
    after the connect time); every other request goes to ``inner``, the client's connection pool."""

    def __init__(self, inner: httpx.AsyncBaseTransport, paths: set[str]) -> None:
        self.inner, self.paths = inner, paths
        self.refused: Counter[str] = Counter()  # the requests refused, by path

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path not in self.paths:
            return await self.inner.handle_async_request(request)
        self.refused[path] += 1
        emit(Kind.REQUEST_START, path=path, client=0)  # in flight while it connects, as the pool's requests
        emit(Kind.WORK_START, item=path)
        outcome = "cancelled"
        try:
            await asyncio.sleep(CONNECT_TIME)
            outcome = "failed"
            raise httpx.ConnectError("connection refused", request=request)
        finally:
            emit(Kind.WORK_END, item=path, outcome=outcome)
            emit(Kind.REQUEST_END, path=path, outcome=outcome)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _client(
    connections: Connections, case: FetchCase, timeout: float, refused: Counter[str] | None = None
) -> httpx.AsyncClient:
    """The one client the scenario gives fetch_all: a client of the service, through which the
    ``unreachable`` items' connections are refused (counted in ``refused``)."""
    if not case.unreachable:
        return connections.client(timeout=timeout)
    transport = _Unreachable(connections.pool(), {f"/items/{n}" for n in case.unreachable})
    if refused is not None:
        transport.refused = refused
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL, timeout=timeout)


def one_failing_url_does_not_raise(chain: Chain, run: VirtualRun[object]) -> None:
    if isinstance(run.error, httpx.HTTPError) or isinstance(run.error, BaseExceptionGroup):
        leaves = leaf_exceptions(run.error) if isinstance(run.error, BaseExceptionGroup) else [run.error]
        escaped = [error for error in leaves if isinstance(error, httpx.HTTPError)]
        kinds = sorted({type(error).__name__ for error in escaped})
        caught_some = escaped and all(isinstance(error, httpx.TransportError) for error in escaped)
        chain.fail(
            "one failing URL does not make fetch_all raise",
            observed=f"fetch_all raised {describe_error(run.error).splitlines()[0]}",
            hint=f"{' and '.join(kinds)} escaped your except clause: every httpx error of a request belongs in its "
            "URL's place, so catch httpx.HTTPError (their common base), not only HTTPStatusError and timeouts"
            if caught_some and not any(isinstance(error, httpx.TimeoutException) for error in escaped)
            else "store each URL's exception in its place: asyncio.gather(..., return_exceptions=True), "
            "or try/except httpx.HTTPError around each request",
        )


def returns_one_entry_per_url(chain: Chain, results: object, case: FetchCase) -> list[object]:
    chain.require(
        isinstance(results, list) and len(results) == len(case.items),
        "fetch_all returns a list with one entry per URL",
        observed=f"it returned {_short(results)} for {len(case.items)} URL(s)",
        hint="return one entry per URL, e.g. the list asyncio.gather(...) gives you",
    )
    assert isinstance(results, list)
    return results


def requests_every_url_once_per_listing(chain: Chain, seen: FetchRun, case: FetchCase) -> None:
    sent, listed = seen.sent, Counter(case.paths)
    extra = sorted(path for path in sent if sent[path] > listed[path])
    short = [path for path in listed if sent[path] < listed[path]]
    chain.require(
        not extra and not short,
        "every URL is requested once per time it is listed",
        observed=lambda: "; ".join(
            [f"{path} listed {listed[path]} time(s), requested {sent[path]}" for path in (extra + short)[:4]]
        ),
        hint=(
            "a URL listed twice is two requests with two answers: keep one task (and one result) per "
            "position of urls, not per distinct URL"
            if short and all(sent[path] for path in short)
            else "start exactly one request per entry of urls"
        ),
    )


def bodies_are_in_place(chain: Chain, results: list[object], case: FetchCase) -> None:
    """results[i] is the body of urls[i] for every URL that answers."""
    items = case.items
    erroring = case.failing | case.refused | case.hanging | case.unreachable
    bodies = {body_of(n): index for index, n in reversed(list(enumerate(items)))}
    wrong = [index for index, n in enumerate(items) if n not in erroring and results[index] != body_of(n)]

    def observed() -> str:
        index = wrong[0]
        got = results[index]
        where = f", the body of urls[{bodies[got]}]" if isinstance(got, str) and got in bodies else ""
        return f"results[{index}] is {_short(got)}{where}; urls[{index}] is /items/{items[index]}"

    def misplaced(got: object, index: int) -> bool:
        """``got`` belongs to another URL than urls[index]: its body, or an error about another URL."""
        if isinstance(got, httpx.HTTPError):
            return _url_of(got) not in (None, f"/items/{items[index]}")
        return isinstance(got, str) and got in bodies

    prop = "results[i] is the body (response.text) of urls[i]"
    if wrong and isinstance(results[wrong[0]], httpx.Response):
        chain.fail(prop, observed=observed, hint="return response.text, not the Response object")
    if wrong and misplaced(results[wrong[0]], wrong[0]):
        chain.fail(
            prop,
            observed=observed,
            hint="keep the input order: gather returns results in the order of its arguments, "
            "whereas as_completed yields them in the order they finish (and urls.index() finds "
            "only the first of two equal URLs)",
        )
    chain.require(
        not wrong,
        prop,
        observed=observed,
        hint=(
            "that place was never filled: with results stored by URL (urls.index(url), a dict), a URL listed "
            "twice fills only one place; keep each request's own position"
            if wrong and results[wrong[0]] is None and items.count(items[wrong[0]]) > 1
            else "store response.text for a successful answer, in the place of its URL"
        ),
    )


def errors_are_in_place(chain: Chain, results: list[object], case: FetchCase) -> None:
    """results[i] is the error of urls[i] for every URL that answers 4xx/5xx, never answers, or whose
    connection is refused."""
    for index, n in enumerate(case.items):
        got = results[index]
        status = got.response.status_code if isinstance(got, httpx.HTTPStatusError) else None
        url_ok = isinstance(got, httpx.HTTPError) and _url_of(got) == f"/items/{n}"
        if n in case.failing or n in case.refused:
            kind = "answers 500 or 503" if n in case.failing else "answers 429 Too Many Requests"
            statuses = (500, 503) if n in case.failing else (429,)
            chain.require(
                status in statuses and url_ok,
                "a URL answering 4xx or 5xx gets its httpx.HTTPStatusError in its place",
                observed=f"results[{index}] (/items/{n}, which {kind}) is {_short(got)}"
                + (f" about {_url_of(got)}" if isinstance(got, httpx.HTTPError) and not url_ok else ""),
                hint=(
                    "store each URL's own error in its own place"
                    if status in statuses
                    else "call response.raise_for_status() on every response: any 4xx/5xx answer (429 too) "
                    "is not an error for httpx until you ask"
                ),
            )
        elif n in case.hanging:
            chain.require(
                isinstance(got, httpx.TimeoutException) and url_ok,
                "a URL whose request raised gets that httpx error in its place",
                observed=f"results[{index}] (/items/{n}, which never answers: the client times out) is {_short(got)}",
                hint="store the exception the request raised (here httpx.ReadTimeout) in that URL's place: catch "
                "httpx.HTTPError, the base of every httpx error",
            )
        elif n in case.unreachable:
            chain.require(
                isinstance(got, httpx.TransportError) and not isinstance(got, httpx.TimeoutException) and url_ok,
                "a URL whose request raised gets that httpx error in its place",
                observed=f"results[{index}] (/items/{n}, whose connection is refused: httpx.ConnectError) is "
                f"{_short(got)}",
                hint="store the exception the request raised (here httpx.ConnectError, a transport error) in that "
                "URL's place: catch httpx.HTTPError, the base of every httpx error, not only HTTPStatusError and "
                "TimeoutException",
            )


def sends_through_the_one_client(chain: Chain, seen: FetchRun, case: FetchCase) -> None:
    chain.require(
        seen.clients == 1,
        "fetch_all sends every request through the one client it is given",
        observed=f"{seen.clients - 1} more client(s) were created for {len(case.items)} URL(s); "
        f"{seen.opened} connections were opened in all, each costing {CONNECT_TIME:g} s",
        hint="use the `client` argument; do not open `httpx.AsyncClient()` per request "
        "(document 000 does): each new client has an empty connection pool, so every "
        "request pays a new connection",
    )


def requests_run_concurrently(chain: Chain, peak: int, case: FetchCase) -> None:
    chain.require(
        peak >= min(case.allowed, len(case.items)),
        f"requests run concurrently, up to {case.called} at a time",
        observed=f"at most {peak} request(s) were in flight at once",
        hint=(
            "start every request before awaiting any (gather, or tasks in a TaskGroup)"
            if case.limit is not None or peak <= 1
            else f"keep the signature of the statement: `*, limit={DEFAULT_LIMIT}`"
        ),
    )


def stays_within_the_limit(chain: Chain, peak: int, case: FetchCase) -> None:
    chain.require(
        peak <= case.allowed,
        f"at most {case.called} requests are in flight at once",
        observed=f"{peak} requests were in flight at once",
        hint=(
            "hold an asyncio.Semaphore(limit) around each `await client.get(url)`"
            if case.limit is not None
            else f"keep the signature of the statement: `*, limit={DEFAULT_LIMIT}`"
        ),
    )


def fills_a_free_place_at_once(chain: Chain, run: VirtualRun[object], case: FetchCase) -> None:
    idle = idle_slots(run.events, len(case.items), case.allowed)
    at, running, waiting = idle or (0.0, 0, 0)
    chain.require(
        idle is None,
        "a new request starts as soon as one of the limit's places is free",
        observed=f"{at - case.start:g} s after the call only {running} request(s) were in flight "
        f"while {waiting} URL(s) had not been requested yet",
        hint=(
            "a request that failed kept its place: give the place back however the request ends "
            "(`async with semaphore:`, not acquire() and a release() that an exception skips)"
            if idle is not None and _never_full_again(run.events, at, case.allowed)
            else "do not send the URLs in fixed batches of `limit` (a batch waits for its slowest request): "
            "start every request at once and let a Semaphore(limit) admit the next one when one ends"
        ),
    )


def _never_full_again(events: list[Event], since: float, allowed: int) -> bool:
    """After ``since``, were fewer than ``allowed`` requests ever in flight at once (places lost for good)?
    (The connection model emits work.start/work.end around each request.)"""
    times, counts = in_flight(events)
    return max((count for time, count in zip(times, counts, strict=True) if time > since + 1e-9), default=0) < allowed


def _url_of(error: httpx.HTTPError) -> str | None:
    try:
        return error.request.url.path
    except RuntimeError:  # an HTTPError made without a request
        return None


# ----------------------------------------------------------------- run_all


@dataclass
class RunAllCase:
    """check_run_all's scenario: item i takes durations[i] s; the items in ``failing`` fail."""

    durations: Sequence[float]
    items: list[int]
    failing: list[int]
    start: float

    @property
    def longest(self) -> float:
        return max((self.durations[item] for item in self.items), default=0.0)


@learner_facing
def check_run_all(
    run_all: RunAll,
    *,
    durations: Sequence[float] = (3.0, 1.5, 2.0, 4.0, 0.5),
    failing: Iterable[int] = (2,),
    items: Sequence[int] | None = None,
    start: float = 2.0,
    cancel_each_wait: bool = False,
) -> None:
    """run_all(handle, items) at t = ``start``; item i takes ``durations[i]`` s (``items`` defaults to
    0..n-1, and may repeat one). First without failures, then with the items in ``failing`` failing.
    With ``cancel_each_wait``, then the first run again from t=0, cancelled at each of its waits."""
    chain = Chain("run_all")
    chain.require_async_function(run_all, "run_all")
    listed = list(range(len(durations))) if items is None else list(items)
    case = RunAllCase(durations, listed, sorted(set(failing) & set(listed)), start)
    work = Workload(lambda item: durations[item])
    run = run_virtual(lambda: _run_all_at_start(run_all, work, case), deadline=start + DEADLINE)
    chain.require_finished(run, "run_all")
    returns_the_results_in_order(chain, run.value, work, case)
    calls_handle_once_per_entry(chain, work, case)
    handles_every_item_at_once(chain, run.elapsed - start, case)
    chain.require_no_leftover_tasks(run, "run_all")
    if case.failing:
        run_all_with_a_failing_item(chain, run_all, case)
    if cancel_each_wait:
        cancelled_from_t0(
            chain,
            RUN_ALL_CANCELLED,
            alone_on_the_clock(
                lambda: run_all(Workload(lambda item: durations[item]), list(case.items)), deadline=DEADLINE
            ),
        )


def run_all_with_a_failing_item(chain: Chain, run_all: RunAll, case: RunAllCase) -> None:
    failed = failing_item_scenario(run_all, case)
    chain.require_finished(failed, "run_all with a failing item")
    outcome = failed.unwrap()
    raises_when_an_item_fails(chain, outcome)
    raises_as_soon_as_the_first_item_fails(chain, outcome, case)
    siblings_have_ended_before_it_raises(chain, failed.events, outcome, case)
    the_failure_is_an_exception_group(chain, outcome.error)


RUN_ALL_CANCELLED = SweepHints(
    "run_all",
    swallowed="do not catch the cancellation: a bare `except:` or `except BaseException` turns it into a result; "
    "let asyncio.CancelledError propagate",
    left="cancel and await the calls in a `finally:` (or let a TaskGroup do it): cleanup placed after "
    "`await asyncio.wait(...)` is skipped when the wait itself is cancelled",
)


async def _run_all_at_start(run_all: RunAll, work: Workload, case: RunAllCase) -> object:
    await asyncio.sleep(case.start)
    return await run_all(work, list(case.items))


def failing_item_scenario(run_all: RunAll, case: RunAllCase) -> VirtualRun[Outcome]:
    """run_all with the failing items failing; what it did, then what kept running for longest + 1 s."""
    work = Workload(lambda item: case.durations[item], case.failing)

    async def scenario() -> Outcome:
        await asyncio.sleep(case.start)
        outcome = await timed_call(run_all(work, list(case.items)), catch=BaseException)
        if outcome.error is not None:
            emit(Kind.CHECK_RAISED)
        await asyncio.sleep(case.longest + 1)  # watch what keeps running
        return outcome

    return run_virtual(scenario, deadline=case.start + DEADLINE)


def returns_the_results_in_order(chain: Chain, value: object, work: Workload, case: RunAllCase) -> None:
    expected = [work.expected(item) for item in case.items]
    if isinstance(value, list) and sorted(map(repr, value)) == sorted(map(repr, expected)):
        hint = (
            "collect results in input order (gather does; or keep the tasks in a list and read "
            "task.result() after the TaskGroup), not in the order the items finish"
        )
    else:
        hint = "return one result per entry of items: a dict keyed by item loses an item listed twice"
    chain.require(
        value == expected,
        "run_all returns the results in the order of items",
        observed=lambda: f"for items {describe_values(case.items)} it returned {_short(value)}",
        hint=hint,
    )


def calls_handle_once_per_entry(chain: Chain, work: Workload, case: RunAllCase) -> None:
    wanted = Counter(case.items)
    calls = [item for item in wanted if work.calls[item] != wanted[item]]
    chain.require(
        not calls,
        "run_all calls handle(item) once for every entry of items",
        observed=lambda: "; ".join(
            f"item {item!r} is listed {wanted[item]} time(s), handle was called {work.calls[item]} time(s)"
            for item in calls[:3]
        ),
        hint="call handle(item) once per entry of items, even when two entries are equal",
    )


def handles_every_item_at_once(chain: Chain, took: float, case: RunAllCase) -> None:
    chain.require(
        _same(took, case.longest),
        "run_all handles every item at the same time",
        observed=f"it took {took:g} s; the longest item takes {case.longest:g} s",
        hint="start every item before awaiting any",
    )


def raises_when_an_item_fails(chain: Chain, outcome: Outcome) -> None:
    chain.require(
        outcome.error is not None,
        "run_all raises when an item fails",
        observed=lambda: f"it returned {_short(outcome.value)}",
        hint="let the failure propagate: a TaskGroup raises it; gather(return_exceptions=True) "
        "would turn it into a result",
    )


def raises_as_soon_as_the_first_item_fails(chain: Chain, outcome: Outcome, case: RunAllCase) -> None:
    first = min(case.durations[item] for item in case.failing)
    first_item = min(case.failing, key=lambda item: case.durations[item])
    at = outcome.took or 0.0
    chain.require(
        _same(at, first),
        "run_all raises as soon as the first item fails",
        observed=f"it raised {at:g} s after the call; item {first_item} failed after {first:g} s",
        hint=(
            "do not wait for the other items to finish before raising: a TaskGroup raises once the "
            "siblings it cancelled have ended"
            if at > first
            else "start every item at once in a TaskGroup"
        ),
    )


def siblings_have_ended_before_it_raises(chain: Chain, events: list[Event], outcome: Outcome, case: RunAllCase) -> None:
    late = ended_after(events, Kind.CHECK_RAISED)
    chain.require(
        not late,
        "every sibling still running has ended (cancelled) before run_all raises",
        observed=lambda: (
            f"run_all raised {outcome.took or 0.0:g} s after the call, but "
            + "; ".join(_ended(e, case.start) for e in late[:4])
        ),
        hint=(
            "you cancelled them but did not wait: task.cancel() only asks, and a task has ended once you have "
            "awaited it (await asyncio.gather(*tasks, return_exceptions=True)); a TaskGroup does both"
            if late and all(event["outcome"] == "cancelled" for event in late)
            else "gather() without return_exceptions raises at the first error but leaves the others "
            "running (document 000); a TaskGroup cancels them and waits for them before raising"
        ),
    )


def the_failure_is_an_exception_group(chain: Chain, error: BaseException | None) -> None:
    leaves = leaf_exceptions(error) if isinstance(error, BaseExceptionGroup) else []
    chain.require(
        isinstance(error, ExceptionGroup) and any(isinstance(e, ItemFailed) for e in leaves),
        "the failure surfaces as an ExceptionGroup holding the item's exception",
        observed=f"it raised {describe_error(error)}",
        hint="let the TaskGroup's ExceptionGroup propagate (handle it with `except*`); do not unwrap it",
    )


# ------------------------------------------------------------------- merge


def _stream(
    name: str, every: float, count: int, closed: set[str], origin: float = 0.0, nones: bool = False
) -> AsyncGenerator[str | None, None]:
    """Item ``<name><n>`` (``None`` if ``nones``) is due at t = origin + (n + 1) * every, read or not
    (a live source, like a socket)."""

    async def items() -> AsyncGenerator[str | None, None]:
        try:
            for number in range(count):
                await sleep_until(origin + (number + 1) * every)
                emit(Kind.STREAM_ITEM, item=f"{name}{number}")
                yield None if nones else f"{name}{number}"
        finally:
            closed.add(name)
            emit(Kind.STREAM_CLOSED, stream=name)

    return items()


def _streams(
    spec: Sequence[tuple[float, int]], closed: set[str], origin: float = 0.0, nones: Iterable[int] = ()
) -> list[AsyncGenerator[str | None, None]]:
    silent = set(nones)
    return [
        _stream("abcdefgh"[number], every, count, closed, origin, number in silent)
        for number, (every, count) in enumerate(spec)
    ]


def _due(spec: Sequence[tuple[float, int]]) -> dict[str, float]:
    """When each item of the streams ``spec`` is due, in order of time (ties: stream order)."""
    due = {
        f"{'abcdefgh'[number]}{n}": (n + 1) * every for number, (every, count) in enumerate(spec) for n in range(count)
    }
    return dict(sorted(due.items(), key=lambda pair: pair[1]))


def _open_streams(spec: Sequence[tuple[float, int]], closed: set[str]) -> list[str]:
    """The names of the streams ``spec`` whose ``finally:`` has not run."""
    return sorted({"abcdefgh"[number] for number in range(len(spec))} - closed)


def merge_is_an_async_generator(chain: Chain, merge: Merge) -> None:
    if inspect.iscoroutinefunction(merge):  # the release's placeholder has no yield
        run = run_virtual(lambda: merge(), deadline=1.0)
        if isinstance(run.error, NotImplementedError):
            chain.fail_unimplemented("merge")
    kind = "an async function without yield" if inspect.iscoroutinefunction(merge) else type(merge).__name__
    chain.require(
        inspect.isasyncgenfunction(merge),
        "merge is an async generator (`async def` with `yield`)",
        observed=f"merge is {kind}",
        hint="define `async def merge(*streams):` and `yield` each item as it arrives",
    )


Received = list[tuple[float, object]]  # (seconds after the start, item) for each item merge yielded


@learner_facing
def check_merge(
    merge: Merge,
    *,
    streams: Sequence[tuple[float, int]] = ((0.5, 4), (0.7, 3), (1.1, 2)),
    fail_at: float | None = 1.2,
    nones: Iterable[int] = (),
    start: float = 1.25,
) -> None:
    """At t = ``start``, stream k yields ``count`` items, one every ``every`` s (the streams in ``nones``
    yield None each time); the consumer reads merge(...) to its end. Then the same streams and one
    more that raises ``fail_at`` s after the start (first if ``fail_at`` is negative: -x means x s;
    skipped if None). Times in messages are seconds after the start."""
    chain = Chain("merge")
    merge_is_an_async_generator(chain, merge)
    nones = tuple(nones)
    run = merge_scenario(merge, streams, nones, start)
    chain.require_finished(
        run, "merge", hang_hint=("merge must end when the last stream ends: count the streams that have ended")
    )
    silent = {"abcdefgh"[number] for number in nones}
    expected: Received = [(at, None if name[0] in silent else name) for name, at in _due(streams).items()]
    yields_every_item_once(chain, run.unwrap(), expected)
    yields_each_item_when_due(chain, run.unwrap(), expected)
    ends_when_the_last_stream_ends(chain, run.elapsed - start, expected)
    chain.require_no_leftover_tasks(run, "merge")
    if fail_at is not None:
        closed: set[str] = set()
        failed = failing_stream_scenario(merge, _streams(streams, closed, start), fail_at, start)
        finishes_when_a_stream_raises(chain, failed, abs(fail_at), start)
        raises_the_stream_error(chain, failed.error)
        raises_as_soon_as_the_stream_fails(chain, failed.elapsed - start, abs(fail_at))
        cancels_and_closes_on_a_stream_error(chain, failed, _open_streams(streams, closed))


def merge_scenario(
    merge: Merge, streams: Sequence[tuple[float, int]], nones: Sequence[int], start: float
) -> VirtualRun[Received]:
    """At t = start, read merge(*streams) to its end: each item with when it came."""
    sources = _streams(streams, set(), start, nones)

    async def scenario() -> Received:
        received: Received = []
        loop = asyncio.get_running_loop()
        await asyncio.sleep(start)
        async for item in merge(*sources):
            received.append((loop.time() - start, item))
        return received

    return run_virtual(scenario, deadline=start + DEADLINE)


def yields_every_item_once(chain: Chain, received: Received, expected: Received) -> None:
    wanted = Counter(value for _, value in expected)
    got = Counter(value for _, value in received)
    missing = [value for value in wanted if got[value] < wanted[value]]
    repeated = [value for value in got if got[value] > wanted[value]]
    chain.require(
        not missing and not repeated,
        "merge yields every item of every stream exactly once",
        observed=lambda: (
            f"never yielded: {describe_values(missing)}"
            + (f" ({wanted[None]} None item(s) due, {got[None]} yielded)" if None in missing else "")
            if missing
            else f"yielded more than once: {describe_values(repeated)}"
        ),
        hint=(
            "None is an item like any other: mark a stream's end with an object of your own "
            "(e.g. `DONE = object()`, compared with `is`), not with None"
            if None in missing or None in repeated
            else "end only when every stream has ended, not the first one"
            if missing
            else "yield each item once: put it in the queue once, and take each entry once"
        ),
    )


def yields_each_item_when_due(chain: Chain, received: Received, expected: Received) -> None:
    late: list[tuple[float, float, object]] = []
    for value in Counter(value for _, value in expected):
        due = sorted(at for at, v in expected if v == value)
        came = sorted(at for at, v in received if v == value)
        late += [(at, when, value) for at, when in zip(due, came, strict=True) if not _same(at, when)]
    late.sort(key=lambda entry: entry[0])
    chain.require(
        not late,
        "merge yields each item as soon as its stream produces it",
        observed=lambda: f"{late[0][2]!r} was due {late[0][0]:g} s after the start but yielded after {late[0][1]:g} s",
        hint="read every stream at once, each in its own task, and yield whatever comes "
        "first; reading the streams one after another makes the later ones wait",
    )


def ends_when_the_last_stream_ends(chain: Chain, took: float, expected: Received) -> None:
    last = max((at for at, _ in expected), default=0.0)
    chain.require(
        _same(took, last),
        "merge ends as soon as the last stream ends",
        observed=f"the last item came {last:g} s after the start, merge ended after {took:g} s",
        hint="do not sleep or poll: wait on the queue, and stop once every stream has ended",
    )


def failing_stream_scenario(
    merge: Merge, sources: list[AsyncGenerator[str | None, None]], fail_at: float, start: float
) -> VirtualRun[None]:
    """At t = start, read merge(...) of ``sources`` plus one stream that raises ItemFailed ``abs(fail_at)``
    s after the start (first if ``fail_at`` is negative)."""

    async def failing() -> AsyncGenerator[str, None]:
        await asyncio.sleep(abs(fail_at))
        raise ItemFailed("the stream broke")
        yield "never"  # makes this an async generator

    async def scenario() -> None:
        await asyncio.sleep(start)
        together = [failing(), *sources] if fail_at < 0 else [*sources, failing()]
        async for _ in merge(*together):
            pass

    return run_virtual(scenario, deadline=start + DEADLINE)


def finishes_when_a_stream_raises(chain: Chain, run: VirtualRun[None], after: float, start: float) -> None:
    if run.outcome == "hung":
        chain.fail(
            "merge finishes when a stream raises",
            observed=f"a stream raised ItemFailed('the stream broke') {after:g} s after the start; "
            f"{run.elapsed - start:g} s after the start merge was still waiting for more items",
            hint="a pump that dies of its stream's error never reports that stream's end, so merge "
            "waits forever: catch the Exception in the pump and hand it to the reader through the queue",
        )
    if run.outcome == "blocked":
        chain.require_finished(run, "merge with a failing stream")


def raises_the_stream_error(chain: Chain, error: BaseException | None) -> None:
    chain.require(
        find_item_failure(error) is not None,
        "when a stream raises, merge raises that error to the reader",
        observed=(
            f"merge raised {describe_error(error)}"
            if error is not None
            else "merge ended normally, as if the failed stream had simply ended"
        ),
        hint="catch the Exception in the pump, put it in the queue, and raise it in merge",
    )


def raises_as_soon_as_the_stream_fails(chain: Chain, took: float, after: float) -> None:
    chain.require(
        _same(took, after),
        "merge raises as soon as the stream fails",
        observed=f"the stream failed {after:g} s after the start, merge raised after {took:g} s",
        hint="raise the error when you take it from the queue; do not wait for the other streams",
    )


def cancels_and_closes_on_a_stream_error(chain: Chain, run: VirtualRun[None], still_open: list[str]) -> None:
    chain.require(
        not run.leftover and not still_open,
        "when a stream raises, merge cancels its tasks and closes the other streams",
        observed=(
            f"{len(run.leftover)} task(s) it started were still running; "
            f"stream(s) left open: {', '.join(still_open) or 'none'}"
        ),
        hint="the `finally:` around merge's loop runs on errors too: cancel and await the pumps there",
    )


@learner_facing
def check_merge_cancelled(
    merge: Merge,
    *,
    take: int = 3,
    streams: Sequence[tuple[float, int]] = ((0.5, 100), (0.5, 100), (1.0, 2)),
    start: float = 0.75,
) -> None:
    """At t = ``start``, the consumer stops early: ``break`` after ``take`` items (merge closed by
    aclosing), then a consumer task cancelled while it waits for the next item."""
    chain = Chain("merge")
    merge_is_an_async_generator(chain, merge)
    for how in ("break", "cancel"):
        what = "the consumer breaks out of its loop" if how == "break" else "the consumer task is cancelled"
        run = stopping_consumer_scenario(merge, how, take, streams, start)
        closing_merge_raises_nothing(chain, run, what)
        chain.require_finished(
            run,
            "a consumer that stops with " + ("`break`" if how == "break" else "task.cancel()"),
            hang_hint="merge's cleanup (a `finally:` around the loop) must not wait for "
            "the streams to end: cancel the pumping tasks, then await them",
        )
        stopped, closed = run.unwrap()
        reads_no_more_items_once_stopped(chain, run, stopped, what, start)
        closes_every_stream_before_returning(chain, _open_streams(streams, closed), what)


def stopping_consumer_scenario(
    merge: Merge, how: str, take: int, streams: Sequence[tuple[float, int]], start: float
) -> VirtualRun[tuple[float, set[str]]]:
    """At t = start, a consumer of merge(*streams) stops by ``how`` (``"break"`` after ``take`` items, or
    ``"cancel"`` of its task); the run's value: when it had stopped, and the streams closed by then.
    The run goes on 5 s more, for whatever merge left behind."""
    closed: set[str] = set()
    sources = _streams(streams, closed, start)

    async def consume() -> None:
        async with contextlib.aclosing(merge(*sources)) as merged:
            count = 0
            async for _ in merged:
                count += 1
                if count == take and how == "break":
                    break

    async def scenario() -> tuple[float, set[str]]:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(start)
        if how == "break":
            await consume()
        else:
            consumer = asyncio.create_task(consume(), name="consumer")
            await asyncio.sleep(streams[0][0] * take + 0.01)
            consumer.cancel()
            await asyncio.wait({consumer})
        stopped = (loop.time(), set(closed))
        await asyncio.sleep(5)  # anything merge left behind shows itself meanwhile
        return stopped

    return run_virtual(scenario, deadline=start + DEADLINE)


def closing_merge_raises_nothing(chain: Chain, run: VirtualRun[tuple[float, set[str]]], what: str) -> None:
    if isinstance(run.error, BaseExceptionGroup) and run.error.subgroup(GeneratorExit) is not None:
        chain.fail(
            f"when {what}, closing merge raises nothing",
            observed=f"closing merge raised {describe_error(run.error)}",
            hint="aclose() throws GeneratorExit in at the `yield`; a TaskGroup around the `yield` wraps it in an "
            "exception group, which aclose() then raises: own the pumps with a list of tasks and a "
            "try/finally that cancels and awaits them",
        )


def reads_no_more_items_once_stopped(
    chain: Chain, run: VirtualRun[tuple[float, set[str]]], stopped: float, what: str, start: float
) -> None:
    after = [
        event["item"]
        for event in run.of_kind(Kind.STREAM_ITEM)
        if event.time is not None and event.time > stopped + 1e-9
    ]
    chain.require(
        not run.leftover and not after,
        f"when {what}, merge cancels its tasks and reads no more items",
        observed=lambda: (
            f"after the consumer stopped, {stopped - start:g} s after the start, "
            f"{len(after)} more item(s) were read from the streams"
            + (f"; 5 s later, {len(run.leftover)} task(s) it started were still running" if run.leftover else "")
        ),
        hint="wrap merge's loop in try/finally; in the finally, cancel every pumping task and "
        "await them (the Go version in document 002 has no way to stop its goroutines)",
    )


def closes_every_stream_before_returning(chain: Chain, still_open: list[str], what: str) -> None:
    chain.require(
        not still_open,
        f"when {what}, every stream is closed before merge returns",
        observed=f"stream(s) {', '.join(still_open)} were left open (their `finally:` had not run)",
        hint="in each pump, iterate inside `async with contextlib.aclosing(stream):`, "
        "so the stream is closed however the pump ends",
    )


# ----------------------------------------------------------- first_success


@learner_facing
def check_first_success(
    first_success: FirstSuccess,
    *,
    durations: Sequence[float] = (3.0, 1.0, 2.0),
    failing: Iterable[int] = (1,),
    all_fail: Sequence[float] = (1.0, 2.5, 0.5),
    start: float = 3.5,
    cancel_each_wait: bool = False,
) -> None:
    """Called at t = ``start``: attempt i takes ``durations[i]`` s (failing if in ``failing``); then a race
    where attempt i fails after ``all_fail[i]`` s. Times in messages are seconds after the call. With
    ``cancel_each_wait``, then the first race again from t=0, cancelled at each of its waits: it must
    end as cancelled (the statement asks nothing of a cancelled race's attempts)."""
    chain = Chain("first_success")
    chain.require_async_function(first_success, "first_success")
    failing = set(failing)
    work = Workload(lambda item: durations[item], failing)
    winners = sorted((duration, number) for number, duration in enumerate(durations) if number not in failing)
    assert winners, "the race needs an attempt that succeeds"
    run = race_scenario(first_success, work, len(durations), start)
    a_failed_attempt_does_not_end_the_race(chain, run, winners, start)
    chain.require_finished(run, "first_success")
    returns_the_first_success(chain, run.value, work, winners)
    returns_as_soon_as_an_attempt_succeeds(chain, run.elapsed - start, winners)
    the_losers_have_ended_when_it_returns(chain, run, start)

    work = Workload(lambda item: all_fail[item], set(range(len(all_fail))))
    run = race_scenario(first_success, work, len(all_fail), start)
    raises_when_every_attempt_fails(chain, run)
    raises_a_group_of_every_error_in_input_order(chain, run.error, len(all_fail))
    the_group_says_every_attempt_failed(chain, run.error)
    raises_once_the_last_attempt_has_failed(chain, run.elapsed - start, max(all_fail))
    chain.require_no_leftover_tasks(run, "first_success")
    raises_value_error_without_attempts(chain, first_success)
    if cancel_each_wait:
        race = Workload(lambda item: durations[item], failing)
        attempts = [_attempt(race, number) for number in range(len(durations))]
        cancelled_from_t0(
            chain, FIRST_SUCCESS_CANCELLED, alone_on_the_clock(lambda: first_success(*attempts), deadline=DEADLINE)
        )


FIRST_SUCCESS_CANCELLED = SweepHints(
    "first_success",
    swallowed="an attempt's failure is an Exception; the race's own cancellation is not: catch `Exception` "
    "(not `BaseException`, not a bare `except:`) when you look at a finished attempt, and let "
    "asyncio.CancelledError propagate",
)


def race_scenario(first_success: FirstSuccess, work: Workload, count: int, start: float) -> VirtualRun[object]:
    """At t = start, first_success(attempt_0, ..., attempt_<count-1>), attempt i doing ``work(i)``; the
    event check.returned marks its return."""
    attempts = [_attempt(work, number) for number in range(count)]

    async def scenario() -> object:
        await asyncio.sleep(start)
        value = await first_success(*attempts)
        emit(Kind.CHECK_RETURNED)
        return value

    return run_virtual(scenario, deadline=start + DEADLINE)


def _attempt(work: Workload, number: int) -> Attempt:
    async def attempt() -> object:
        return await work(number)

    attempt.__name__ = attempt.__qualname__ = f"attempt_{number}"
    return attempt


def a_failed_attempt_does_not_end_the_race(
    chain: Chain, run: VirtualRun[object], winners: list[tuple[float, int]], start: float
) -> None:
    win_at, winner = winners[0]
    if find_item_failure(run.error) is not None:
        chain.fail(
            "a failed attempt does not end the race",
            observed=f"first_success raised {describe_error(run.error)} after {run.elapsed - start:g} s, "
            f"but attempt {winner} would have succeeded after {win_at:g} s",
            hint="the first attempt to *complete* is not necessarily the first to *succeed* "
            "(document 000's race): when a finished attempt failed, keep waiting for the others",
        )


def returns_the_first_success(chain: Chain, value: object, work: Workload, winners: list[tuple[float, int]]) -> None:
    win_at, winner = winners[0]
    tied = [number for duration, number in winners if _same(duration, win_at)]
    chain.require(
        value == work.expected(winner),
        "first_success returns the first successful result",
        observed=f"it returned {_short(value)}; attempt {winner} succeeded first, "
        f"after {win_at:g} s, with {work.expected(winner)!r}",
        hint=(
            "attempts that succeed at the same instant are ranked by their order in `attempts`: "
            "`done` is a set, so look through your tasks in input order"
            if len(tied) > 1 and value in [work.expected(number) for number in tied]
            else "that attempt succeeded later: the winner is the first to succeed in time, not in the "
            "list; wait for the attempts to finish one by one (asyncio.wait(..., FIRST_COMPLETED) in a loop)"
            if value in [work.expected(number) for _, number in winners]
            else "return the result of the attempt that succeeded first (task.result()), nothing else"
        ),
    )


def returns_as_soon_as_an_attempt_succeeds(chain: Chain, took: float, winners: list[tuple[float, int]]) -> None:
    win_at = winners[0][0]
    chain.require(
        _same(took, win_at),
        "first_success returns as soon as an attempt succeeds",
        observed=f"it returned after {took:g} s; the first success came after {win_at:g} s",
        hint="do not wait for every attempt (gather does): wait with "
        "asyncio.wait(..., return_when=FIRST_COMPLETED), in a loop",
    )


def the_losers_have_ended_when_it_returns(chain: Chain, run: VirtualRun[object], start: float) -> None:
    running = running_at(run.events, Kind.CHECK_RETURNED)
    chain.require(
        not running and not run.leftover,
        "the losers are cancelled, and have ended, when first_success returns",
        observed=lambda: (
            f"when it returned, after {run.elapsed - start:g} s, attempt(s) {describe_values(sorted(running))} "
            "were still running"
            if running
            else "; ".join(task.describe() for task in run.leftover)
        ),
        hint="cancel every other task, then await them (e.g. `await asyncio.gather(*tasks, "
        "return_exceptions=True)`) in a `finally:`, before returning",
    )


def raises_when_every_attempt_fails(chain: Chain, run: VirtualRun[object]) -> None:
    if run.outcome in ("hung", "blocked"):
        chain.require_finished(
            run,
            "first_success when every attempt fails",
            hang_hint="once every attempt has failed, there is nothing left to wait for: raise",
        )
    chain.require(
        run.outcome == "raised",
        "first_success raises when every attempt fails",
        observed=f"it returned {_short(run.value)}",
        hint="when no attempt is left, raise ExceptionGroup('every attempt failed', errors)",
    )


def raises_a_group_of_every_error_in_input_order(chain: Chain, error: BaseException | None, count: int) -> None:
    leaves = leaf_exceptions(error) if isinstance(error, BaseExceptionGroup) else []
    expected_messages = [f"item {number!r} failed" for number in range(count)]
    in_order = sorted(map(str, leaves)) == sorted(expected_messages)
    chain.require(
        isinstance(error, ExceptionGroup) and [str(e) for e in leaves] == expected_messages,
        "when every attempt fails, it raises an ExceptionGroup of every error, in input order",
        observed=f"it raised {describe_error(error)}",
        hint=(
            "list the errors in the order of the attempts, not in the order they failed"
            if isinstance(error, ExceptionGroup) and in_order
            else "collect each attempt's exception (task.exception()) in the order of the attempts "
            "and raise ExceptionGroup('every attempt failed', errors)"
        ),
    )


def the_group_says_every_attempt_failed(chain: Chain, error: BaseException | None) -> None:
    chain.require(
        isinstance(error, ExceptionGroup) and error.message == "every attempt failed",
        "when every attempt fails, the ExceptionGroup's message is 'every attempt failed'",
        observed=f"its message is {getattr(error, 'message', None)!r}",
        hint="raise ExceptionGroup('every attempt failed', errors), as the statement says",
    )


def raises_once_the_last_attempt_has_failed(chain: Chain, took: float, last: float) -> None:
    chain.require(
        _same(took, last),
        "it raises once the last attempt has failed",
        observed=f"it raised after {took:g} s; the last attempt failed after {last:g} s",
        hint="raise as soon as no attempt is pending, not before",
    )


def raises_value_error_without_attempts(chain: Chain, first_success: FirstSuccess) -> None:
    run = run_virtual(first_success, deadline=DEADLINE)
    chain.require(
        isinstance(run.error, ValueError),
        "first_success() with no attempts raises ValueError",
        observed=(
            f"it raised {describe_error(run.error)}"
            if run.error is not None
            else f"it {'returned ' + _short(run.value) if run.outcome == 'returned' else run.outcome}"
        ),
        hint="check `if not attempts:` first and raise ValueError: there is nothing to race",
    )


# ------------------------------------------------------------------ helpers


def _ended(event: Event, start: float) -> str:
    return (
        f"item {event['item']!r} went on and ended {event['outcome']} {(event.time or 0.0) - start:g} s after the call"
    )


def _same(a: float | None, b: float) -> bool:
    return a is not None and abs(a - b) < 1e-6


def _short(value: object) -> str:
    if isinstance(value, BaseException):
        return describe_error(value).splitlines()[0]
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value[:6]) + (", ...]" if len(value) > 6 else "]")
    if isinstance(value, httpx.Response):
        return f"<Response [{value.status_code}]>"
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
