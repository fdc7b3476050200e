"""Chapter 4 checks: fetch_all, run_all, merge and first_success (see solutions/fan_out_fan_in.py).

Also :class:`FakeService`, the HTTP service the chapter talks to: httpx's own
in-process ``MockTransport`` with an async handler that sleeps on the (virtual)
clock. No socket is opened and nothing leaves the process.

Each ``check_*`` runs the learner's function on a virtual clock and walks a
:class:`~coursekit.checks.Chain`: defined -> runs -> terminates -> correct ->
respects limits. Its defaults are the scenario of the visible test cell.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator, Sequence
from typing import Any
from unittest import mock

import httpx

from coursekit.analysis import peak_requests
from coursekit.checks import Chain, describe_error, describe_values, leaf_exceptions, learner_facing
from coursekit.events import Event, emit
from coursekit.virtual_time import run_virtual
from coursekit.workload import ItemFailed, Workload, find_item_failure

DEADLINE = 120.0  # simulated seconds; every scenario below needs far less
BASE_URL = "http://service.test"


# ------------------------------------------------------------ the service


class FakeService:
    """An HTTP service simulated in process, on the running loop's clock.

    ``GET <path>`` answers ``200`` with the body ``"content of <path>"`` after
    ``latency`` seconds (a number, or a function of the path). Paths in
    ``failing`` answer ``503`` instead; for paths in ``broken`` the server drops
    the connection and the request raises ``httpx.RemoteProtocolError``.

    Every client gets its own transport, and a transport keeps its own pool of
    connections, as a real ``httpx.AsyncClient`` does: a request reuses an idle
    connection of its client or opens a new one, which takes ``connect_time``
    seconds (the TCP and TLS handshakes). ``clients`` and ``connections`` count
    both; events ``http.client``, ``http.connect``, ``request.start`` and
    ``request.end`` are emitted, and the handler is a :class:`Workload` (item =
    path), so ``work.start``/``work.end`` draw a timeline.
    """

    def __init__(
        self,
        latency: float | Callable[[str], float] = 1.0,
        *,
        failing: Iterable[str] = (),
        broken: Iterable[str] = (),
        connect_time: float = 0.1,
    ) -> None:
        self.broken = frozenset(broken)
        self.work = Workload(latency, frozenset(failing) | self.broken)
        self.connect_time = connect_time
        self.clients = 0
        self.connections = 0
        self.requests: Counter[str] = Counter()

    def url(self, path: str) -> str:
        return BASE_URL + path

    def client(self) -> httpx.AsyncClient:
        """A new client of this service: ``httpx.AsyncClient(transport=<a new pool>)``."""
        return httpx.AsyncClient(transport=self.transport())

    def transport(self) -> ServiceTransport:
        return ServiceTransport(self)

    @contextlib.contextmanager
    def intercept(self) -> Iterator[FakeService]:
        """Meanwhile, an ``httpx.AsyncClient()`` created without a transport talks to this service
        (and is counted), instead of trying the network."""
        original = httpx.AsyncClient.__init__
        service = self

        def init(client: httpx.AsyncClient, *args: Any, **kwargs: Any) -> None:
            if kwargs.get("transport") is None:
                kwargs["transport"] = service.transport()
            original(client, *args, **kwargs)

        with mock.patch.object(httpx.AsyncClient, "__init__", init):
            yield self

    async def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        try:
            await self.work(path)
        except ItemFailed:
            if path in self.broken:
                raise httpx.RemoteProtocolError(
                    "server disconnected without sending a response", request=request
                ) from None
            return httpx.Response(503, text=f"{path} is unavailable")
        return httpx.Response(200, text=f"content of {path}")


class ServiceTransport(httpx.MockTransport):
    """One client's connection pool to a :class:`FakeService`."""

    def __init__(self, service: FakeService) -> None:
        super().__init__(service.handle)
        self.service = service
        self.idle = 0
        service.clients += 1
        emit("http.client", number=service.clients)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.service.requests[path] += 1
        emit("request.start", path=path)
        outcome = "cancelled"
        try:
            if self.idle:
                self.idle -= 1  # keep-alive: no handshake
            else:
                await asyncio.sleep(self.service.connect_time)
                self.service.connections += 1
                emit("http.connect", number=self.service.connections)
            try:
                response = await super().handle_async_request(request)
            except httpx.TransportError:
                outcome = "failed"  # the connection is gone, not returned to the pool
                raise
            self.idle += 1
            outcome = "done"
            return response
        finally:
            emit("request.end", path=path, outcome=outcome)


# --------------------------------------------------------------- fetch_all


@learner_facing
def check_fetch_all(
    fetch_all: Callable[..., Any],
    *,
    count: int = 8,
    limit: int = 3,
    failing: Iterable[int] = (4,),
    broken: Iterable[int] = (6,),
    latency: float = 1.0,
) -> None:
    """fetch_all(client, urls, limit=limit) on ``count`` URLs ``/items/1..count``."""
    chain = Chain("fetch_all")
    chain.require_async_function(fetch_all, "fetch_all")
    paths = [f"/items/{n}" for n in range(1, count + 1)]
    failing_paths = {f"/items/{n}" for n in failing}
    broken_paths = {f"/items/{n}" for n in broken}
    service = FakeService(latency, failing=failing_paths, broken=broken_paths)
    urls = [service.url(path) for path in paths]

    async def scenario() -> Any:
        async with service.client() as client:
            return await fetch_all(client, urls, limit=limit)

    with service.intercept():
        run = run_virtual(scenario, deadline=DEADLINE)
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
        observed=f"it returned {_short(results)}",
        hint="return the list asyncio.gather(...) gives you (one entry per URL)",
    )
    twice = sorted(path for path, calls in service.requests.items() if calls > 1)
    never = [path for path in paths if not service.requests[path]]
    chain.require(
        not twice and not never,
        "every URL is requested exactly once",
        observed=lambda: (
            (f"requested more than once: {describe_values(twice)}; " if twice else "")
            + (f"never requested: {describe_values(never)}" if never else "")
        ),
        hint="start one request per URL",
    )
    _require_in_input_order(chain, results, paths, failing_paths | broken_paths)
    _require_errors_in_place(chain, results, paths, failing_paths, broken_paths)
    chain.require_no_leftover_tasks(run, "fetch_all")
    chain.require(
        service.clients == 1,
        "fetch_all sends every request through the one client it is given",
        observed=f"{service.clients} clients were created for {len(urls)} URLs "
        f"({service.connections} connections opened)",
        hint="use the `client` argument; do not open `httpx.AsyncClient()` per request "
        "(document 000 does): each new client has an empty connection pool, so every "
        "request pays a new connection",
    )
    peak = peak_requests(run.events)
    expected = min(limit, len(urls))
    chain.require(
        peak >= expected,
        f"requests run concurrently, up to {limit} at a time",
        observed=f"at most {peak} request(s) were in flight at once",
        hint="start every request before awaiting any (gather, or tasks in a TaskGroup)",
    )
    chain.require(
        peak <= limit,
        f"at most limit={limit} requests are in flight at once",
        observed=f"{peak} requests were in flight at once",
        hint="hold an asyncio.Semaphore(limit) around each `await client.get(url)`",
    )


def _require_in_input_order(chain: Chain, results: list[Any], paths: list[str], erroring: set[str]) -> None:
    bodies = {f"content of {path}": index for index, path in enumerate(paths)}
    wrong = [
        index for index, path in enumerate(paths) if path not in erroring and results[index] != f"content of {path}"
    ]

    def observed() -> str:
        index = wrong[0]
        got = results[index]
        where = f", the body of urls[{bodies[got]}]" if isinstance(got, str) and got in bodies else ""
        return f"results[{index}] is {_short(got)}{where}; expected 'content of {paths[index]}'"

    if wrong and isinstance(results[wrong[0]], httpx.Response):
        chain.fail(
            "results[i] is the body (response.text) of urls[i]",
            observed=observed,
            hint="return response.text, not the Response object",
        )
    chain.require(
        not wrong,
        "results[i] is the body (response.text) of urls[i]",
        observed=observed,
        hint="keep the input order: gather returns results in the order of its arguments, "
        "whereas as_completed yields them in the order they finish",
    )


def _require_errors_in_place(
    chain: Chain, results: list[Any], paths: list[str], failing: set[str], broken: set[str]
) -> None:
    for index, path in enumerate(paths):
        got = results[index]
        if path in failing:
            ok = isinstance(got, httpx.HTTPStatusError) and got.response.status_code == 503
            chain.require(
                ok,
                "a URL answering 503 gets its httpx.HTTPStatusError in its place",
                observed=f"results[{index}] ({path}, which answers 503) is {_short(got)}",
                hint="call response.raise_for_status() on every response: a 4xx/5xx answer "
                "is not an error for httpx until you ask",
            )
    for index, path in enumerate(paths):
        got = results[index]
        if path in broken:
            chain.require(
                isinstance(got, httpx.TransportError),
                "a dropped connection gets its httpx error in its place",
                observed=f"results[{index}] ({path}, whose connection drops) is {_short(got)}",
                hint="store the exception the request raised in that URL's place",
            )


# ----------------------------------------------------------------- run_all


@learner_facing
def check_run_all(
    run_all: Callable[..., Any],
    *,
    durations: Sequence[float] = (3.0, 1.5, 2.0, 4.0, 0.5),
    failing: Iterable[int] = (2,),
) -> None:
    """Items 0..n-1 take ``durations[i]`` s. First without failures, then with ``failing`` failing."""
    chain = Chain("run_all")
    chain.require_async_function(run_all, "run_all")
    items = list(range(len(durations)))
    failing = sorted(set(failing))

    work = Workload(lambda item: durations[item])
    run = run_virtual(lambda: run_all(work, items), deadline=DEADLINE)
    chain.require_finished(run, "run_all")
    expected = [work.expected(item) for item in items]
    chain.require(
        run.value == expected,
        "run_all returns the results in the order of items",
        observed=lambda: f"it returned {_short(run.value)}; expected {_short(expected)}",
        hint="collect results in input order (gather does; or keep the tasks in a list "
        "and read task.result() after the TaskGroup)",
    )
    longest = max(durations, default=0.0)
    chain.require(
        _same(run.elapsed, longest),
        "run_all handles every item at the same time",
        observed=f"it took {run.elapsed:g} s; the longest item takes {longest:g} s",
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
            outcome["value"] = await run_all(work, items)
        except BaseException as error:  # noqa: BLE001 (whatever it raised is what we check)
            outcome["error"], outcome["at"] = error, loop.time()
            emit("check.raised")
        await asyncio.sleep(longest + 1)  # watch what keeps running

    run = run_virtual(scenario, deadline=DEADLINE)
    chain.require_finished(run, "run_all with a failing item")
    chain.require(
        "error" in outcome,
        "run_all raises when an item fails",
        observed=lambda: f"it returned {_short(outcome.get('value'))}",
        hint="let the failure propagate: a TaskGroup raises it; gather(return_exceptions=True) "
        "would turn it into a result",
    )
    first = min(durations[item] for item in failing)
    chain.require(
        _same(outcome["at"], first),
        "run_all raises as soon as the first item fails",
        observed=f"it raised at t={outcome['at']:g} s; item {failing[0]} failed at t={first:g} s",
        hint="start every item at once in a TaskGroup",
    )
    raised_at = next(index for index, event in enumerate(run.events) if event.kind == "check.raised")
    late = sorted(
        (event for event in run.events[raised_at:] if event.kind == "work.end"),
        key=lambda event: (event.time, repr(event["item"])),
    )
    chain.require(
        not late,
        "every sibling still running has ended (cancelled) before run_all raises",
        observed=lambda: f"run_all raised at t={outcome['at']:g} s, but " + "; ".join(_ended(e) for e in late[:4]),
        hint="gather() without return_exceptions raises at the first error but leaves the others "
        "running (document 000); a TaskGroup cancels them and waits for them before raising "
        "(task.cancel() only asks: a task has ended once you have awaited it)",
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


def _stream(name: str, every: float, count: int, closed: set[str]) -> AsyncGenerator[str, None]:
    """Item ``<name><n>`` is due at t = (n + 1) * every, read or not (a live source, like a socket)."""

    async def items() -> AsyncGenerator[str, None]:
        loop = asyncio.get_running_loop()
        try:
            for number in range(count):
                await asyncio.sleep(max(0.0, (number + 1) * every - loop.time()))
                emit("stream.item", item=f"{name}{number}")
                yield f"{name}{number}"
        finally:
            closed.add(name)
            emit("stream.closed", stream=name)

    return items()


def _streams(spec: Sequence[tuple[float, int]], closed: set[str]) -> list[AsyncGenerator[str, None]]:
    return [_stream("abcdefgh"[number], every, count, closed) for number, (every, count) in enumerate(spec)]


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
) -> None:
    """Stream k yields ``count`` items, one every ``every`` s; the consumer reads merge(...) to its end.
    Then the same streams and one more that raises at ``fail_at`` (skipped if None)."""
    chain = Chain("merge")
    _require_async_generator(chain, merge)
    closed: set[str] = set()
    sources = _streams(streams, closed)
    received: list[tuple[float, str]] = []

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        async for item in merge(*sources):
            received.append((loop.time(), item))

    run = run_virtual(scenario, deadline=DEADLINE)
    chain.require_finished(
        run, "merge", hang_hint=("merge must end when the last stream ends: count the streams that have ended")
    )
    produced = _due(streams)
    expected = list(produced)
    got = [item for _, item in received]
    missing = [item for item in expected if item not in got]
    repeated = sorted(item for item, n in Counter(got).items() if n > 1)
    chain.require(
        not missing and not repeated,
        "merge yields every item of every stream exactly once",
        observed=lambda: (
            f"never yielded: {describe_values(missing)}"
            if missing
            else f"yielded more than once: {describe_values(repeated)}"
        ),
        hint="end only when every stream has ended, not the first one",
    )
    late = [(at, item) for at, item in received if not _same(at, produced[item])]
    chain.require(
        not late,
        "merge yields each item as soon as its stream produces it",
        observed=lambda: f"{late[0][1]!r} was due at t={produced[late[0][1]]:g} s but yielded at t={late[0][0]:g} s",
        hint="read every stream at once, each in its own task, and yield whatever comes "
        "first; reading the streams one after another makes the later ones wait",
    )
    last = max(produced.values(), default=0.0)
    chain.require(
        _same(run.elapsed, last),
        "merge ends as soon as the last stream ends",
        observed=f"the last item came at t={last:g} s, merge ended at t={run.elapsed:g} s",
        hint="do not sleep or poll: wait on the queue, and stop once every stream has ended",
    )
    chain.require_no_leftover_tasks(run, "merge")
    if fail_at is not None:
        _require_stream_error_raised(chain, merge, streams, fail_at)


def _require_stream_error_raised(
    chain: Chain, merge: Callable[..., Any], streams: Sequence[tuple[float, int]], fail_at: float
) -> None:
    """The same streams plus one that raises ItemFailed at ``fail_at``."""
    closed: set[str] = set()
    sources = _streams(streams, closed)

    async def failing() -> AsyncGenerator[str, None]:
        await asyncio.sleep(fail_at)
        raise ItemFailed("the stream broke")
        yield "never"  # makes this an async generator

    async def scenario() -> None:
        async for _ in merge(*sources, failing()):
            pass

    run = run_virtual(scenario, deadline=DEADLINE)
    if run.outcome == "hung":
        chain.fail(
            "merge finishes when a stream raises",
            observed=f"a stream raised ItemFailed('the stream broke') at t={fail_at:g} s; at "
            f"t={run.elapsed:g} s merge was still waiting for more items",
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
        _same(run.elapsed, fail_at),
        "merge raises as soon as the stream fails",
        observed=f"the stream failed at t={fail_at:g} s, merge raised at t={run.elapsed:g} s",
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
) -> None:
    """The consumer stops early: ``break`` after ``take`` items (merge closed by aclosing), then a
    consumer task cancelled while it waits for the next item."""
    chain = Chain("merge")
    _require_async_generator(chain, merge)
    for how in ("break", "cancel"):
        _require_merge_stops(chain, merge, how, take, streams)


def _require_merge_stops(
    chain: Chain, merge: Callable[..., Any], how: str, take: int, streams: Sequence[tuple[float, int]]
) -> None:
    """One round of check_merge_cancelled: the consumer stops by ``how`` (``"break"`` or ``"cancel"``)."""
    closed: set[str] = set()
    sources = _streams(streams, closed)
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

    run = run_virtual(scenario, deadline=DEADLINE)
    what = "the consumer breaks out of its loop" if how == "break" else "the consumer task is cancelled"
    chain.require_finished(
        run,
        "a consumer that stops with " + ("`break`" if how == "break" else "task.cancel()"),
        hang_hint="merge's cleanup (a `finally:` around the loop) must not wait for "
        "the streams to end: cancel the pumping tasks, then await them",
    )
    after = [event["item"] for event in run.of_kind("stream.item") if event.time > state["stopped"] + 1e-9]
    chain.require(
        not run.leftover and not after,
        f"when {what}, merge cancels its tasks and reads no more items",
        observed=lambda: (
            f"after the consumer stopped at t={state['stopped']:g} s, "
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
) -> None:
    """Attempt i takes ``durations[i]`` s (failing if in ``failing``); then a race where all fail."""
    chain = Chain("first_success")
    chain.require_async_function(first_success, "first_success")
    failing = set(failing)
    work = Workload(lambda item: durations[item], failing)
    attempts = [_attempt(work, number) for number in range(len(durations))]
    winners = sorted((duration, number) for number, duration in enumerate(durations) if number not in failing)
    assert winners, "the race needs an attempt that succeeds"
    win_at, winner = winners[0]

    async def scenario() -> Any:
        value = await first_success(*attempts)
        emit("check.returned")
        return value

    run = run_virtual(scenario, deadline=DEADLINE)
    failed_item = find_item_failure(run.error)
    if failed_item is not None:
        chain.fail(
            "a failed attempt does not end the race",
            observed=f"first_success raised {describe_error(run.error)} at t={run.elapsed:g} s, "
            f"but attempt {winner} would have succeeded at t={win_at:g} s",
            hint="the first attempt to *complete* is not necessarily the first to *succeed* "
            "(document 000's race): when a finished attempt failed, keep waiting for the others",
        )
    chain.require_finished(run, "first_success")
    chain.require(
        run.value == work.expected(winner),
        "first_success returns the first successful result",
        observed=f"it returned {_short(run.value)}; attempt {winner} succeeded first, "
        f"at t={win_at:g} s, with {work.expected(winner)!r}",
        hint="among the attempts that finished, pick one that did not raise",
    )
    chain.require(
        _same(run.elapsed, win_at),
        "first_success returns as soon as an attempt succeeds",
        observed=f"it returned at t={run.elapsed:g} s; the first success came at t={win_at:g} s",
        hint="do not wait for every attempt (gather does): wait with "
        "asyncio.wait(..., return_when=FIRST_COMPLETED), in a loop",
    )
    returned_at = next(index for index, event in enumerate(run.events) if event.kind == "check.returned")
    running: set[Any] = set()
    for event in run.events[:returned_at]:
        if event.kind == "work.start":
            running.add(event["item"])
        elif event.kind == "work.end":
            running.discard(event["item"])
    chain.require(
        not running and not run.leftover,
        "the losers are cancelled, and have ended, when first_success returns",
        observed=lambda: (
            f"when it returned at t={run.elapsed:g} s, attempt(s) {describe_values(sorted(running))} were still running"
        ),
        hint="cancel every other task, then await them (e.g. `await asyncio.gather(*tasks, "
        "return_exceptions=True)`) in a `finally:`, before returning",
    )

    work = Workload(lambda item: all_fail[item], set(range(len(all_fail))))
    attempts = [_attempt(work, number) for number in range(len(all_fail))]
    run = run_virtual(lambda: first_success(*attempts), deadline=DEADLINE)
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
    chain.require(
        isinstance(error, ExceptionGroup) and [str(e) for e in leaves] == expected_messages,
        "when every attempt fails, it raises an ExceptionGroup of every error, in input order",
        observed=f"it raised {describe_error(error)}",
        hint="collect each attempt's exception (task.exception()) in the order of the attempts "
        "and raise ExceptionGroup('every attempt failed', errors)",
    )
    chain.require(
        _same(run.elapsed, last),
        "it raises once the last attempt has failed",
        observed=f"it raised at t={run.elapsed:g} s; the last attempt failed at t={last:g} s",
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


def _ended(event: Event) -> str:
    return f"item {event['item']!r} went on and ended {event['outcome']} at t={event.time:g} s"


def _same(a: float | None, b: float) -> bool:
    return a is not None and abs(a - b) < 1e-6


def _short(value: Any) -> str:
    if isinstance(value, BaseException):
        return describe_error(value)
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value[:6]) + (", ...]" if len(value) > 6 else "]")
    if isinstance(value, httpx.Response):
        return f"<Response [{value.status_code}]>"
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
