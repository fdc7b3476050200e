"""Chapter 4 checks: fetch_all, run_all, merge and first_success (see solutions/fan_out_fan_in.py).

``fetch_all`` talks to the course's HTTP service (:mod:`coursekit.service`) in-process,
through :class:`coursekit.service.connections.Connections`, which models each client's
connection pool (a new connection costs ``CONNECT_TIME`` s) and counts the clients made.

Each ``check_*`` runs the learner's function on a virtual clock and walks a
:class:`~coursekit.checks.Chain`: defined -> runs -> terminates -> correct ->
respects limits. Its defaults are the scenario of the visible test cell.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from typing import Any

import httpx

from coursekit.analysis import ended_after, idle_slots, in_flight, running_at
from coursekit.chapters.fan_out_fan_in.analysis import peak_requests
from coursekit.checks import Chain, describe_error, describe_values, leaf_exceptions, learner_facing
from coursekit.events import Event, Kind, emit
from coursekit.scenario import sleep_until
from coursekit.service import BASE_URL, Faults, Latency, RateLimit, Service
from coursekit.service.connections import Connections
from coursekit.virtual_time import run_virtual
from coursekit.workload import ItemFailed, Workload, find_item_failure

DEADLINE = 120.0  # simulated seconds; every scenario below needs far less
CONNECT_TIME = 0.1  # seconds a new connection to the service takes (the handshakes)
DEFAULT_LIMIT = 10  # fetch_all's limit when none is given, as the statement's signature says


# ------------------------------------------------------------ the service


def items_service(
    *,
    latency: float = 1.0,
    slow: Iterable[tuple[int, float]] = (),
    failing: Iterable[int] = (),
    refused: Iterable[int] = (),
    hanging: Iterable[int] = (),
    items: Iterable[int] = (),
    seed: int = 4,
) -> Service:
    """The course's service with per-item faults: ``GET /items/<n>`` answers ``{"item":n}`` after
    ``latency`` s (``slow``: (n, seconds) pairs), an item in ``failing`` answers 500 or 503 after its
    latency, one in ``refused`` 429 at once, one in ``hanging`` never answers."""
    slow_items = dict(slow)
    failing, refused, hanging = set(failing), set(refused), set(hanging)
    endpoints: dict[str, Faults] = {}
    for n in {*items, *slow_items, *failing, *refused, *hanging}:
        endpoints[f"/items/{n}"] = Faults(
            latency=Latency.fixed(slow_items.get(n, latency)),
            error_rate=1.0 if n in failing else 0.0,
            hang_rate=1.0 if n in hanging else 0.0,
            rate_limit=RateLimit(0, 3600.0) if n in refused else None,
        )
    return Service(seed=seed, faults=Faults(latency=Latency.fixed(latency)), endpoints=endpoints)


def body_of(n: int) -> str:
    """The text of the service's answer to ``GET /items/<n>``."""
    return f'{{"item":{n}}}'


# --------------------------------------------------------------- fetch_all


@learner_facing
def check_fetch_all(
    fetch_all: Callable[..., Any],
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
) -> None:
    """fetch_all(client, urls, limit=limit) with ``urls`` = ``/items/<n>`` for n in ``items``, at t = ``start``,
    through a client with a ``timeout`` s timeout (see :func:`items_service` for the faults);
    ``limit=None``: fetch_all(client, urls), whose default limit is 10."""
    chain = Chain("fetch_all")
    chain.require_async_function(fetch_all, "fetch_all")
    failing, refused, hanging = set(failing), set(refused), set(hanging)
    service = items_service(latency=latency, slow=slow, failing=failing, refused=refused, hanging=hanging, items=items)
    connections = Connections(service, connect_time=CONNECT_TIME)
    paths = [f"/items/{n}" for n in items]
    urls = [BASE_URL + path for path in paths]

    async def scenario() -> Any:
        await asyncio.sleep(start)
        service.start()
        async with connections.client(timeout=timeout) as client:
            if limit is None:
                return await fetch_all(client, list(urls))
            return await fetch_all(client, list(urls), limit=limit)

    with connections.intercept():
        run = run_virtual(scenario, deadline=start + DEADLINE)
    if isinstance(run.error, httpx.HTTPError) or isinstance(run.error, BaseExceptionGroup):
        chain.fail(
            "one failing URL does not make fetch_all raise",
            observed=f"fetch_all raised {describe_error(run.error).splitlines()[0]}",
            hint="store each URL's exception in its place: asyncio.gather(..., return_exceptions=True), "
            "or try/except httpx.HTTPError around each request",
        )
    chain.require_finished(run, "fetch_all")
    results = run.unwrap()
    chain.require(
        isinstance(results, list) and len(results) == len(urls),
        "fetch_all returns a list with one entry per URL",
        observed=f"it returned {_short(results)} for {len(urls)} URL(s)",
        hint="return one entry per URL, e.g. the list asyncio.gather(...) gives you",
    )
    sent = Counter(record.path for record in service.log)
    listed = Counter(paths)
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
    _require_results_in_place(chain, results, items, failing, refused, hanging)
    chain.require_no_leftover_tasks(run, "fetch_all")
    chain.require(
        connections.clients == 1,
        "fetch_all sends every request through the one client it is given",
        observed=f"{connections.clients - 1} more client(s) were created for {len(urls)} URL(s); "
        f"{connections.opened} connections were opened in all, each costing {CONNECT_TIME:g} s",
        hint="use the `client` argument; do not open `httpx.AsyncClient()` per request "
        "(document 000 does): each new client has an empty connection pool, so every "
        "request pays a new connection",
    )
    peak = peak_requests(run.events)
    allowed = DEFAULT_LIMIT if limit is None else limit
    called = f"limit={limit}" if limit is not None else f"the default limit={DEFAULT_LIMIT}"
    chain.require(
        peak >= min(allowed, len(urls)),
        f"requests run concurrently, up to {called} at a time",
        observed=f"at most {peak} request(s) were in flight at once",
        hint=(
            "start every request before awaiting any (gather, or tasks in a TaskGroup)"
            if limit is not None or peak <= 1
            else f"keep the signature of the statement: `*, limit={DEFAULT_LIMIT}`"
        ),
    )
    chain.require(
        peak <= allowed,
        f"at most {called} requests are in flight at once",
        observed=f"{peak} requests were in flight at once",
        hint=(
            "hold an asyncio.Semaphore(limit) around each `await client.get(url)`"
            if limit is not None
            else f"keep the signature of the statement: `*, limit={DEFAULT_LIMIT}`"
        ),
    )
    idle = idle_slots(run.events, len(urls), allowed)
    at, running, waiting = idle or (0.0, 0, 0)
    chain.require(
        idle is None,
        "a new request starts as soon as one of the limit's places is free",
        observed=f"{at - start:g} s after the call only {running} request(s) were in flight "
        f"while {waiting} URL(s) had not been requested yet",
        hint=(
            "a request that failed kept its place: give the place back however the request ends "
            "(`async with semaphore:`, not acquire() and a release() that an exception skips)"
            if idle is not None and _never_full_again(run.events, at, allowed)
            else "do not send the URLs in fixed batches of `limit` (a batch waits for its slowest request): "
            "start every request at once and let a Semaphore(limit) admit the next one when one ends"
        ),
    )


def _never_full_again(events: list[Event], since: float, allowed: int) -> bool:
    """After ``since``, were fewer than ``allowed`` requests ever in flight at once (places lost for good)?
    (The connection model emits work.start/work.end around each request.)"""
    times, counts = in_flight(events)
    return max((count for time, count in zip(times, counts, strict=True) if time > since + 1e-9), default=0) < allowed


def _require_results_in_place(
    chain: Chain, results: list[Any], items: Sequence[int], failing: set[int], refused: set[int], hanging: set[int]
) -> None:
    """results[i] is the body of urls[i], or the error its request met."""
    erroring = failing | refused | hanging
    bodies = {body_of(n): index for index, n in reversed(list(enumerate(items)))}
    wrong = [index for index, n in enumerate(items) if n not in erroring and results[index] != body_of(n)]

    def observed() -> str:
        index = wrong[0]
        got = results[index]
        where = f", the body of urls[{bodies[got]}]" if isinstance(got, str) and got in bodies else ""
        return f"results[{index}] is {_short(got)}{where}; urls[{index}] is /items/{items[index]}"

    def misplaced(index: int) -> bool:
        """results[index] belongs to another URL: its body, or an error about another URL."""
        got = results[index]
        if isinstance(got, httpx.HTTPError):
            return _url_of(got) not in (None, f"/items/{items[index]}")
        return isinstance(got, str) and got in bodies

    if wrong and isinstance(results[wrong[0]], httpx.Response):
        chain.fail(
            "results[i] is the body (response.text) of urls[i]",
            observed=observed,
            hint="return response.text, not the Response object",
        )
    if wrong and misplaced(wrong[0]):
        chain.fail(
            "results[i] is the body (response.text) of urls[i]",
            observed=observed,
            hint="keep the input order: gather returns results in the order of its arguments, "
            "whereas as_completed yields them in the order they finish (and urls.index() finds "
            "only the first of two equal URLs)",
        )
    chain.require(
        not wrong,
        "results[i] is the body (response.text) of urls[i]",
        observed=observed,
        hint=(
            "that place was never filled: with results stored by URL (urls.index(url), a dict), a URL listed "
            "twice fills only one place; keep each request's own position"
            if wrong and results[wrong[0]] is None and items.count(items[wrong[0]]) > 1
            else "store response.text for a successful answer, in the place of its URL"
        ),
    )

    def place(index: int, kind: str) -> str:
        return f"results[{index}] (/items/{items[index]}, which {kind})"

    for index, n in enumerate(items):
        got = results[index]
        status = got.response.status_code if isinstance(got, httpx.HTTPStatusError) else None
        url_ok = isinstance(got, httpx.HTTPError) and _url_of(got) == f"/items/{n}"
        if n in failing or n in refused:
            kind = "answers 500 or 503" if n in failing else "answers 429 Too Many Requests"
            statuses = (500, 503) if n in failing else (429,)
            chain.require(
                status in statuses and url_ok,
                "a URL answering 4xx or 5xx gets its httpx.HTTPStatusError in its place",
                observed=f"{place(index, kind)} is {_short(got)}"
                + (f" about {_url_of(got)}" if isinstance(got, httpx.HTTPError) and not url_ok else ""),
                hint=(
                    "store each URL's own error in its own place"
                    if status in statuses
                    else "call response.raise_for_status() on every response: any 4xx/5xx answer (429 too) "
                    "is not an error for httpx until you ask"
                ),
            )
        elif n in hanging:
            chain.require(
                isinstance(got, httpx.TimeoutException) and url_ok,
                "a URL whose request raised gets that httpx error in its place",
                observed=f"{place(index, 'never answers: the client times out')} is {_short(got)}",
                hint="store the exception the request raised (here httpx.ReadTimeout) in that URL's place",
            )


def _url_of(error: httpx.HTTPError) -> str | None:
    try:
        return error.request.url.path
    except RuntimeError:  # an HTTPError made without a request
        return None


# ----------------------------------------------------------------- run_all


@learner_facing
def check_run_all(
    run_all: Callable[..., Any],
    *,
    durations: Sequence[float] = (3.0, 1.5, 2.0, 4.0, 0.5),
    failing: Iterable[int] = (2,),
    items: Sequence[int] | None = None,
    start: float = 2.0,
) -> None:
    """run_all(handle, items) at t = ``start``; item i takes ``durations[i]`` s (``items`` defaults to
    0..n-1, and may repeat one). First without failures, then with the items in ``failing`` failing."""
    chain = Chain("run_all")
    chain.require_async_function(run_all, "run_all")
    items = list(range(len(durations))) if items is None else list(items)
    failing = sorted(set(failing) & set(items))

    work = Workload(lambda item: durations[item])

    async def call(work: Workload) -> Any:
        await asyncio.sleep(start)
        return await run_all(work, list(items))

    run = run_virtual(lambda: call(work), deadline=start + DEADLINE)
    chain.require_finished(run, "run_all")
    expected = [work.expected(item) for item in items]
    if isinstance(run.value, list) and sorted(map(repr, run.value)) == sorted(map(repr, expected)):
        hint = (
            "collect results in input order (gather does; or keep the tasks in a list and read "
            "task.result() after the TaskGroup), not in the order the items finish"
        )
    else:
        hint = "return one result per entry of items: a dict keyed by item loses an item listed twice"
    chain.require(
        run.value == expected,
        "run_all returns the results in the order of items",
        observed=lambda: f"for items {describe_values(items)} it returned {_short(run.value)}",
        hint=hint,
    )
    wanted = Counter(items)
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
    longest = max((durations[item] for item in items), default=0.0)
    took = run.elapsed - start
    chain.require(
        _same(took, longest),
        "run_all handles every item at the same time",
        observed=f"it took {took:g} s; the longest item takes {longest:g} s",
        hint="start every item before awaiting any",
    )
    chain.require_no_leftover_tasks(run, "run_all")
    if not failing:
        return

    work = Workload(lambda item: durations[item], failing)
    outcome: dict[str, Any] = {}

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        try:
            outcome["value"] = await call(work)
        except BaseException as error:  # noqa: BLE001 (whatever it raised is what we check)
            outcome["error"], outcome["at"] = error, loop.time() - start
            emit(Kind.CHECK_RAISED)
        await asyncio.sleep(longest + 1)  # watch what keeps running

    run = run_virtual(scenario, deadline=start + DEADLINE)
    chain.require_finished(run, "run_all with a failing item")
    chain.require(
        "error" in outcome,
        "run_all raises when an item fails",
        observed=lambda: f"it returned {_short(outcome.get('value'))}",
        hint="let the failure propagate: a TaskGroup raises it; gather(return_exceptions=True) "
        "would turn it into a result",
    )
    first = min(durations[item] for item in failing)
    first_item = min(failing, key=lambda item: durations[item])
    chain.require(
        _same(outcome["at"], first),
        "run_all raises as soon as the first item fails",
        observed=f"it raised {outcome['at']:g} s after the call; item {first_item} failed after {first:g} s",
        hint=(
            "do not wait for the other items to finish before raising: a TaskGroup raises once the "
            "siblings it cancelled have ended"
            if outcome["at"] > first
            else "start every item at once in a TaskGroup"
        ),
    )
    late = ended_after(run.events, Kind.CHECK_RAISED)
    chain.require(
        not late,
        "every sibling still running has ended (cancelled) before run_all raises",
        observed=lambda: (
            f"run_all raised {outcome['at']:g} s after the call, but " + "; ".join(_ended(e, start) for e in late[:4])
        ),
        hint=(
            "you cancelled them but did not wait: task.cancel() only asks, and a task has ended once you have "
            "awaited it (await asyncio.gather(*tasks, return_exceptions=True)); a TaskGroup does both"
            if late and all(event["outcome"] == "cancelled" for event in late)
            else "gather() without return_exceptions raises at the first error but leaves the others "
            "running (document 000); a TaskGroup cancels them and waits for them before raising"
        ),
    )
    error = outcome["error"]
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


def _require_async_generator(chain: Chain, merge: Any) -> None:
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


@learner_facing
def check_merge(
    merge: Callable[..., Any],
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
    _require_async_generator(chain, merge)
    nones = tuple(nones)
    closed: set[str] = set()
    sources = _streams(streams, closed, start, nones)
    received: list[tuple[float, str | None]] = []

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(start)
        async for item in merge(*sources):
            received.append((loop.time() - start, item))

    run = run_virtual(scenario, deadline=start + DEADLINE)
    chain.require_finished(
        run, "merge", hang_hint=("merge must end when the last stream ends: count the streams that have ended")
    )
    silent = {"abcdefgh"[number] for number in nones}
    produced = _due(streams)
    expected = [(at, None if name[0] in silent else name) for name, at in produced.items()]
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
    late: list[tuple[float, float, str | None]] = []
    for value in wanted:
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
    last = max(produced.values(), default=0.0)
    chain.require(
        _same(run.elapsed - start, last),
        "merge ends as soon as the last stream ends",
        observed=f"the last item came {last:g} s after the start, merge ended after {run.elapsed - start:g} s",
        hint="do not sleep or poll: wait on the queue, and stop once every stream has ended",
    )
    chain.require_no_leftover_tasks(run, "merge")
    if fail_at is not None:
        _require_stream_error_raised(chain, merge, streams, fail_at, start)


def _require_stream_error_raised(
    chain: Chain, merge: Callable[..., Any], streams: Sequence[tuple[float, int]], fail_at: float, start: float
) -> None:
    """The same streams plus one that raises ItemFailed ``abs(fail_at)`` s after the start (first if negative)."""
    closed: set[str] = set()
    sources = _streams(streams, closed, start)
    after = abs(fail_at)

    async def failing() -> AsyncGenerator[str, None]:
        await asyncio.sleep(after)
        raise ItemFailed("the stream broke")
        yield "never"  # makes this an async generator

    async def scenario() -> None:
        await asyncio.sleep(start)
        together = [failing(), *sources] if fail_at < 0 else [*sources, failing()]
        async for _ in merge(*together):
            pass

    run = run_virtual(scenario, deadline=start + DEADLINE)
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
    error = find_item_failure(run.error)
    chain.require(
        error is not None,
        "when a stream raises, merge raises that error to the reader",
        observed=(
            f"merge raised {describe_error(run.error)}"
            if run.error is not None
            else "merge ended normally, as if the failed stream had simply ended"
        ),
        hint="catch the Exception in the pump, put it in the queue, and raise it in merge",
    )
    chain.require(
        _same(run.elapsed - start, after),
        "merge raises as soon as the stream fails",
        observed=f"the stream failed {after:g} s after the start, merge raised after {run.elapsed - start:g} s",
        hint="raise the error when you take it from the queue; do not wait for the other streams",
    )
    still_open = sorted({"abcdefgh"[number] for number in range(len(streams))} - closed)
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
    merge: Callable[..., Any],
    *,
    take: int = 3,
    streams: Sequence[tuple[float, int]] = ((0.5, 100), (0.5, 100), (1.0, 2)),
    start: float = 0.75,
) -> None:
    """At t = ``start``, the consumer stops early: ``break`` after ``take`` items (merge closed by
    aclosing), then a consumer task cancelled while it waits for the next item."""
    chain = Chain("merge")
    _require_async_generator(chain, merge)
    for how in ("break", "cancel"):
        _require_merge_stops(chain, merge, how, take, streams, start)


def _require_merge_stops(
    chain: Chain, merge: Callable[..., Any], how: str, take: int, streams: Sequence[tuple[float, int]], start: float
) -> None:
    """One round of check_merge_cancelled: the consumer stops by ``how`` (``"break"`` or ``"cancel"``)."""
    closed: set[str] = set()
    sources = _streams(streams, closed, start)
    state: dict[str, Any] = {}

    async def consume() -> None:
        async with contextlib.aclosing(merge(*sources)) as merged:
            count = 0
            async for _ in merged:
                count += 1
                if count == take and how == "break":
                    break

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(start)
        if how == "break":
            await consume()
        else:
            consumer = asyncio.create_task(consume(), name="consumer")
            await asyncio.sleep(streams[0][0] * take + 0.01)
            consumer.cancel()
            await asyncio.wait({consumer})
        state["stopped"] = loop.time()
        state["closed"] = set(closed)
        await asyncio.sleep(5)  # anything merge left behind shows itself meanwhile

    run = run_virtual(scenario, deadline=start + DEADLINE)
    what = "the consumer breaks out of its loop" if how == "break" else "the consumer task is cancelled"
    if isinstance(run.error, BaseExceptionGroup) and run.error.subgroup(GeneratorExit) is not None:
        chain.fail(
            f"when {what}, closing merge raises nothing",
            observed=f"closing merge raised {describe_error(run.error)}",
            hint="aclose() throws GeneratorExit in at the `yield`; a TaskGroup around the `yield` wraps it in an "
            "exception group, which aclose() then raises: own the pumps with a list of tasks and a "
            "try/finally that cancels and awaits them",
        )
    chain.require_finished(
        run,
        "a consumer that stops with " + ("`break`" if how == "break" else "task.cancel()"),
        hang_hint="merge's cleanup (a `finally:` around the loop) must not wait for "
        "the streams to end: cancel the pumping tasks, then await them",
    )
    after = [event["item"] for event in run.of_kind(Kind.STREAM_ITEM) if event.time > state["stopped"] + 1e-9]
    chain.require(
        not run.leftover and not after,
        f"when {what}, merge cancels its tasks and reads no more items",
        observed=lambda: (
            f"after the consumer stopped, {state['stopped'] - start:g} s after the start, "
            f"{len(after)} more item(s) were read from the streams"
            + (f"; 5 s later, {len(run.leftover)} task(s) it started were still running" if run.leftover else "")
        ),
        hint="wrap merge's loop in try/finally; in the finally, cancel every pumping task and "
        "await them (the Go version in document 002 has no way to stop its goroutines)",
    )
    names = sorted({"abcdefgh"[number] for number in range(len(streams))} - state["closed"])
    chain.require(
        not names,
        f"when {what}, every stream is closed before merge returns",
        observed=f"stream(s) {', '.join(names)} were left open (their `finally:` had not run)",
        hint="in each pump, iterate inside `async with contextlib.aclosing(stream):`, "
        "so the stream is closed however the pump ends",
    )


# ----------------------------------------------------------- first_success


@learner_facing
def check_first_success(
    first_success: Callable[..., Any],
    *,
    durations: Sequence[float] = (3.0, 1.0, 2.0),
    failing: Iterable[int] = (1,),
    all_fail: Sequence[float] = (1.0, 2.5, 0.5),
    start: float = 3.5,
) -> None:
    """Called at t = ``start``: attempt i takes ``durations[i]`` s (failing if in ``failing``); then a race
    where attempt i fails after ``all_fail[i]`` s. Times in messages are seconds after the call."""
    chain = Chain("first_success")
    chain.require_async_function(first_success, "first_success")
    failing = set(failing)
    work = Workload(lambda item: durations[item], failing)
    attempts = [_attempt(work, number) for number in range(len(durations))]
    winners = sorted((duration, number) for number, duration in enumerate(durations) if number not in failing)
    assert winners, "the race needs an attempt that succeeds"
    win_at, winner = winners[0]

    async def scenario() -> Any:
        await asyncio.sleep(start)
        value = await first_success(*attempts)
        emit(Kind.CHECK_RETURNED)
        return value

    run = run_virtual(scenario, deadline=start + DEADLINE)
    took = run.elapsed - start
    failed_item = find_item_failure(run.error)
    if failed_item is not None:
        chain.fail(
            "a failed attempt does not end the race",
            observed=f"first_success raised {describe_error(run.error)} after {took:g} s, "
            f"but attempt {winner} would have succeeded after {win_at:g} s",
            hint="the first attempt to *complete* is not necessarily the first to *succeed* "
            "(document 000's race): when a finished attempt failed, keep waiting for the others",
        )
    chain.require_finished(run, "first_success")
    tied = [number for duration, number in winners if _same(duration, win_at)]
    chain.require(
        run.value == work.expected(winner),
        "first_success returns the first successful result",
        observed=f"it returned {_short(run.value)}; attempt {winner} succeeded first, "
        f"after {win_at:g} s, with {work.expected(winner)!r}",
        hint=(
            "attempts that succeed at the same instant are ranked by their order in `attempts`: "
            "`done` is a set, so look through your tasks in input order"
            if len(tied) > 1 and run.value in [work.expected(number) for number in tied]
            else "that attempt succeeded later: the winner is the first to succeed in time, not in the "
            "list; wait for the attempts to finish one by one (asyncio.wait(..., FIRST_COMPLETED) in a loop)"
            if run.value in [work.expected(number) for _, number in winners]
            else "return the result of the attempt that succeeded first (task.result()), nothing else"
        ),
    )
    chain.require(
        _same(took, win_at),
        "first_success returns as soon as an attempt succeeds",
        observed=f"it returned after {took:g} s; the first success came after {win_at:g} s",
        hint="do not wait for every attempt (gather does): wait with "
        "asyncio.wait(..., return_when=FIRST_COMPLETED), in a loop",
    )
    running = running_at(run.events, Kind.CHECK_RETURNED)
    chain.require(
        not running and not run.leftover,
        "the losers are cancelled, and have ended, when first_success returns",
        observed=lambda: (
            f"when it returned, after {took:g} s, attempt(s) {describe_values(sorted(running))} were still running"
            if running
            else "; ".join(task.describe() for task in run.leftover)
        ),
        hint="cancel every other task, then await them (e.g. `await asyncio.gather(*tasks, "
        "return_exceptions=True)`) in a `finally:`, before returning",
    )

    work = Workload(lambda item: all_fail[item], set(range(len(all_fail))))
    attempts = [_attempt(work, number) for number in range(len(all_fail))]

    async def all_failing() -> Any:
        await asyncio.sleep(start)
        return await first_success(*attempts)

    run = run_virtual(all_failing, deadline=start + DEADLINE)
    took = run.elapsed - start
    last = max(all_fail)
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
    error = run.error
    leaves = leaf_exceptions(error) if isinstance(error, BaseExceptionGroup) else []
    expected_messages = [f"item {number!r} failed" for number in range(len(all_fail))]
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
    chain.require(
        isinstance(error, ExceptionGroup) and error.message == "every attempt failed",
        "when every attempt fails, the ExceptionGroup's message is 'every attempt failed'",
        observed=f"its message is {getattr(error, 'message', None)!r}",
        hint="raise ExceptionGroup('every attempt failed', errors), as the statement says",
    )
    chain.require(
        _same(took, last),
        "it raises once the last attempt has failed",
        observed=f"it raised after {took:g} s; the last attempt failed after {last:g} s",
        hint="raise as soon as no attempt is pending, not before",
    )
    chain.require_no_leftover_tasks(run, "first_success")

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


def _attempt(work: Workload, number: int) -> Callable[[], Any]:
    async def attempt() -> Any:
        return await work(number)

    attempt.__name__ = attempt.__qualname__ = f"attempt_{number}"
    return attempt


# ------------------------------------------------------------------ helpers


def _ended(event: Event, start: float) -> str:
    return (
        f"item {event['item']!r} went on and ended {event['outcome']} {(event.time or 0.0) - start:g} s after the call"
    )


def _same(a: float | None, b: float) -> bool:
    return a is not None and abs(a - b) < 1e-6


def _short(value: Any) -> str:
    if isinstance(value, BaseException):
        return describe_error(value).splitlines()[0]
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value[:6]) + (", ...]" if len(value) > 6 else "]")
    if isinstance(value, httpx.Response):
        return f"<Response [{value.status_code}]>"
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
