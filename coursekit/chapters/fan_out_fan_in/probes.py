"""Chapter 4 probes: run_all, fetch_all, merge and first_success on random scenarios.

Clock: every run is on the virtual clock of :func:`~coursekit.virtual_time.run_virtual`; the code
under test is called at a random ``start`` and times are observed relative to it. Durations sit on
a grid of 0.25 s; the probe's own instants (a cancellation) are 0.01 s off it (and off every sum of
that grid and the 0.1 s a new connection takes). fetch_all talks to the course's service
in-process, through the connection model the chapter's checks use. In a share of the hidden cells'
scenarios (``cancel_at``), the call is also cancelled while it waits, before any correct run of it
can have ended; what the statement fixes then is that it ends cancelled and leaves no task running.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import itertools
import random
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

import httpx

from coursekit.analysis import idle_slots
from coursekit.chapters.fan_out_fan_in.analysis import peak_requests
from coursekit.chapters.fan_out_fan_in.checks import DEFAULT_LIMIT, _streams, _Unreachable
from coursekit.chapters.fan_out_fan_in.given import CONNECT_TIME, items_service
from coursekit.checks import leaf_exceptions
from coursekit.events import Event, Kind, emit
from coursekit.probing import Probe, outcome
from coursekit.service import BASE_URL
from coursekit.service.connections import Connections
from coursekit.virtual_time import run_virtual
from coursekit.workload import ItemFailed, Workload, find_item_failure

STEP = 0.25  # the duration grid
WALL = 2.0  # real seconds a scenario may block the loop
WATCH = 5.0  # virtual seconds the probe watches for work left behind
OFF_GRID = 0.01  # the probe's cancellations: never when a duration (or a connection) ends
CANCELLED_SHARE = 0.3  # of a hidden cell's scenarios: the call is also cancelled while it waits


def _start(rng: random.Random) -> float:
    return rng.choice([0.0, round(rng.uniform(0, 50), 2)])


def _steps(rng: random.Random, low: int, high: int) -> float:
    return STEP * rng.randint(low, high)


def _error(error: BaseException | None) -> Any:
    """An error as observed: the ItemFailed it holds (alone or in a group), else its type."""
    failure = find_item_failure(error)
    return ["ItemFailed", str(failure)] if failure is not None else [type(error).__name__]


def _until(events: list[Event], marker: str) -> list[Event]:
    """The events before the first ``marker`` (all of them if there is none)."""
    return list(itertools.takewhile(lambda event: event.kind != marker, events))


def _cancel_at(rng: random.Random, soonest: float) -> float:
    """An instant ``OFF_GRID`` s past a multiple of ``STEP``, before ``soonest`` (relative to the start)."""
    return round(STEP * rng.randint(0, max(0, round(soonest / STEP) - 1)) + OFF_GRID, 2)


async def _cancelled(call: Callable[[], Any], cancel_at: float) -> str:
    """``call()`` as a task, cancelled ``cancel_at`` s from now: how it ended ("cancelled": the
    CancelledError came out of it; "returned"; or what it raised). Tasks it cancelled on its way out
    get a few loop turns at that instant to finish."""
    task = asyncio.ensure_future(call())
    await asyncio.wait({task}, timeout=cancel_at)
    task.cancel()
    await asyncio.wait({task})
    for _ in range(3):
        await asyncio.sleep(0)
    if task.cancelled():
        return "cancelled"
    error = task.exception()
    return "returned" if error is None else f"raised {type(error).__name__}"


def _cancelled_run(main: Callable[[], Any], deadline: float) -> Any:
    """A run whose main returns :func:`_cancelled`'s answer: that, and how many tasks it left running."""
    run = run_virtual(main, deadline=deadline, wall_limit=WALL)
    return {**outcome(run), "left_running": len(run.leftover)}


def _running(events: list[Event]) -> list[Any]:
    """The items whose work started and had not ended, after ``events``."""
    running: Counter[Any] = Counter()
    for event in events:
        if event.kind in (Kind.WORK_START, Kind.WORK_END):
            running[event["item"]] += 1 if event.kind == Kind.WORK_START else -1
    return sorted((item for item, count in running.items() if count > 0), key=repr)


# ------------------------------------------------------------------------- run_all


def draw_run_all(rng: random.Random, *, ordinary: bool = False) -> dict[str, Any]:
    """Distinct durations (so the first failure is one item). Unless ``ordinary``: no items now and
    then, items repeated now and then, none to three failing. ``ordinary`` (as the visible check):
    each item once, one failing."""
    count = rng.randint(2, 7) if ordinary else 0 if rng.random() < 0.1 else rng.randint(1, 7)
    durations = [STEP * step for step in rng.sample(range(1, 17), count)]
    items = list(range(count))
    if count and not ordinary and rng.random() < 0.45:
        items = [rng.randrange(count) for _ in range(rng.randint(1, 8))]
    present = sorted(set(items))
    failing = rng.sample(present, min(len(present), 0 if rng.random() < 0.15 else rng.randint(1, 3)))
    if ordinary:
        failing = [rng.choice(present)]
    scenario = {"durations": durations, "items": items, "failing": sorted(failing), "start": _start(rng)}
    if items and not ordinary and rng.random() < CANCELLED_SHARE:  # before the longest call ends
        scenario["cancel_at"] = _cancel_at(rng, max(durations[item] for item in items))
    return scenario


def _run_all(names: Mapping[str, Any], scenario: dict[str, Any], failing: list[int]) -> Any:
    """run_all(handle, items) at ``start``, then the probe watches for WATCH s: its outcome and when
    (relative), what it raised, work that ended after it returned or raised, the calls per item."""
    start = scenario["start"]
    work = Workload(lambda item: scenario["durations"][item], failing)

    async def main() -> Any:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(start)
        try:
            got: Any = {"returned": await names["run_all"](work, list(scenario["items"]))}
        except Exception as error:
            leaves = leaf_exceptions(error) if isinstance(error, BaseExceptionGroup) else [error]
            got = {"raised": type(error).__name__, "holds": sorted({repr(leaf) for leaf in leaves})}
        got["at"] = loop.time() - start
        emit(Kind.PROBE_ENDED)
        await asyncio.sleep(WATCH)
        return got

    run = run_virtual(main, deadline=start + 60, wall_limit=WALL)
    after = run.events[len(_until(run.events, Kind.PROBE_ENDED)) :]
    return {
        **outcome(run),
        "ended_after": sorted([e.time - start, e["item"], e["outcome"]] for e in after if e.kind == Kind.WORK_END),
        "calls": sorted(work.calls.items()),
        "left_running": len(run.leftover),
    }


def observe_run_all(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """Virtual clock, relative to the call. Nothing failing: the results, when run_all returned,
    calls per item, work that went on after. With ``failing``: what it raised (the type and the
    exceptions it holds) and when, work that went on after it raised, tasks left running. With
    ``cancel_at``: nothing failing, run_all cancelled then (before its longest call ends): how it
    ended, tasks left running."""
    observed = {"ok": _run_all(names, scenario, [])}
    if scenario["failing"]:
        observed["failing"] = _run_all(names, scenario, scenario["failing"])
    if scenario.get("cancel_at") is not None:
        work = Workload(lambda item: scenario["durations"][item], [])

        async def main() -> str:
            await asyncio.sleep(scenario["start"])
            return await _cancelled(lambda: names["run_all"](work, list(scenario["items"])), scenario["cancel_at"])

        observed["cancelled"] = _cancelled_run(main, scenario["start"] + 60)
    return observed


# ----------------------------------------------------------------------- fetch_all


def draw_fetch_all(rng: random.Random, *, ordinary: bool = False) -> dict[str, Any]:
    """URLs /items/<n>, repeated now and then; some slow, failing (500/503), refused (429), hanging or
    unreachable (the connection refused: httpx.ConnectError); now and then no URL, or no limit given
    (the default). ``ordinary`` (as the visible check): a limit given, distinct URLs, some slow,
    failing (500/503) or hanging."""
    limit = None if rng.random() < 0.3 and not ordinary else rng.randint(1, 5)
    count = rng.randint(1, 9) if ordinary else 0 if rng.random() < 0.08 else rng.randint(1, 9)
    if limit is None and rng.random() < 0.7:  # more URLs than the default limit
        count = rng.randint(DEFAULT_LIMIT + 1, DEFAULT_LIMIT + 6)
    if ordinary:
        items = rng.sample(range(1, count + 3), count)
    else:
        items = [rng.randint(1, count + 2) for _ in range(count)]
    faulty = rng.sample(sorted(set(items)), min(len(set(items)), rng.randint(0, 4)))
    every = ("slow", "failing", "refused", "hanging", "unreachable")
    faults = ["slow", "failing", "hanging"] if ordinary else list(every)
    kinds = {n: rng.choice(faults) for n in faulty}
    chosen = {kind: [n for n in faulty if kinds[n] == kind] for kind in every}
    scenario: dict[str, Any] = {
        "items": items,
        "limit": limit,
        "latency": _steps(rng, 1, 6),
        "slow": [[n, _steps(rng, 1, 12)] for n in chosen["slow"]],
        "failing": chosen["failing"],
        "refused": chosen["refused"],
        "hanging": chosen["hanging"],
        "timeout": _steps(rng, 8, 24),
        "seed": rng.randint(0, 99),
        "start": _start(rng),
    }
    if not ordinary:
        scenario["unreachable"] = chosen["unreachable"]
    if items and not ordinary and rng.random() < CANCELLED_SHARE:  # before the slowest request can end
        slow = dict(scenario["slow"])
        hanging = set(scenario["hanging"])
        own = [scenario["timeout"] if n in hanging else slow.get(n, scenario["latency"]) for n in items]
        scenario["cancel_at"] = _cancel_at(rng, max(own))
    return scenario


def _fetched(value: Any) -> Any:
    """One entry of fetch_all's list: a body; an httpx error with its status class and URL path."""
    if isinstance(value, str):
        return value
    if isinstance(value, httpx.HTTPStatusError):
        status = value.response.status_code
        return ["HTTPStatusError", "5xx" if status >= 500 else status, value.request.url.path]
    if isinstance(value, httpx.HTTPError):
        with contextlib.suppress(RuntimeError):  # an error made without a request
            return [type(value).__name__, value.request.url.path]
    return [type(value).__name__]


def _fetch_client(connections: Connections, scenario: dict[str, Any], refused: Counter[str]) -> httpx.AsyncClient:
    """The one client fetch_all is given: a client of the service, on which the connections to the
    ``unreachable`` items are refused (counted in ``refused``), as the chapter's checks make it."""
    if not scenario.get("unreachable"):
        return connections.client(timeout=scenario["timeout"])
    transport = _Unreachable(connections.pool(), {f"/items/{n}" for n in scenario["unreachable"]})
    transport.refused = refused
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL, timeout=scenario["timeout"])


def _fetch_all(names: Mapping[str, Any], scenario: dict[str, Any], cancel_at: float | None) -> Any:
    """fetch_all at ``start`` through a new client of a new service; cancelled ``cancel_at`` s after
    the start, if given. The run (its value: the entries, or how the cancelled call ended), the
    requests per path (those refused at connection too), the clients made."""
    keys = ("latency", "slow", "failing", "refused", "hanging", "items", "seed")
    service = items_service(**{key: scenario[key] for key in keys})
    connections = Connections(service, connect_time=CONNECT_TIME)
    urls = [f"{BASE_URL}/items/{n}" for n in scenario["items"]]
    limit = scenario["limit"]
    refused: Counter[str] = Counter()

    async def main() -> Any:
        await asyncio.sleep(scenario["start"])
        service.start()
        async with _fetch_client(connections, scenario, refused) as client:
            fetch_all = names["fetch_all"]
            call = functools.partial(fetch_all, client, list(urls), **({} if limit is None else {"limit": limit}))
            if cancel_at is not None:
                return await _cancelled(call, cancel_at)
            return [_fetched(value) for value in await call()]

    with connections.intercept():
        run = run_virtual(main, deadline=scenario["start"] + 120, wall_limit=WALL)
    requests = Counter(record.path for record in service.log) + refused
    return run, sorted(requests.items()), connections.clients


def observe_fetch_all(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """Virtual clock. fetch_all(client, urls[, limit]) at ``start`` through one client of the
    service: each entry (a body, or the error's type, status class and path), the requests per
    path, the clients made, the most requests at once, the first instant a place of the limit
    stayed free while URLs waited, tasks left running. Not its duration: which URL goes next is free.
    With ``cancel_at``: the same call again, cancelled then (before its slowest request can end):
    how it ended, tasks left running."""
    run, requests, clients = _fetch_all(names, scenario, None)
    limit = scenario["limit"]
    idle = idle_slots(run.events, len(scenario["items"]), DEFAULT_LIMIT if limit is None else limit)
    observed = {
        **outcome(run),
        "requests": requests,
        "clients": clients,
        "peak": peak_requests(run.events),
        "idle": None if idle is None else [idle[0] - scenario["start"], *idle[1:]],
        "left_running": len(run.leftover),
    }
    if scenario.get("cancel_at") is not None:
        cancelled, _, _ = _fetch_all(names, scenario, scenario["cancel_at"])
        observed["cancelled"] = {**outcome(cancelled), "left_running": len(cancelled.leftover)}
    return observed


# --------------------------------------------------------------------------- merge


def _spec(rng: random.Random, count: int, items: tuple[int, int]) -> list[list[Any]]:
    """``count`` streams (every, items): every on a 0.05 s grid, so items often come together."""
    return [[round(0.05 * rng.randint(2, 24), 2), rng.randint(*items)] for _ in range(count)]


def draw_merge(rng: random.Random, *, ordinary: bool = False) -> dict[str, Any]:
    """Streams read to their end (one of them yielding None now and then), the same with one more
    that raises ``abs(fail_at)`` s after the start (first if negative), and long streams whose
    reader stops early (``break`` after ``take`` items, or cancelled at ``cancel_at``). ``ordinary``
    (as the visible checks): one to four streams, each with items, none of them None, and the
    failing stream, last, always."""
    if ordinary:
        streams = _spec(rng, rng.randint(1, 4), (1, 6))
        nones: list[int] = []
        fail_at: float | None = round(0.05 * rng.randint(1, 60), 2)
    else:
        streams = _spec(rng, 0 if rng.random() < 0.1 else rng.randint(1, 4), (0, 6))
        talking = [number for number, (_, count) in enumerate(streams) if count]
        nones = rng.sample(talking, 1) if talking and rng.random() < 0.75 else []
        fail_at = round(rng.choice([-0.05, 0.05]) * rng.randint(1, 60), 2) if rng.random() < 0.8 else None
    return {
        "streams": streams,
        "nones": nones,
        "fail_at": fail_at,
        "stop": _spec(rng, rng.randint(1, 3), (40, 60)),
        "take": rng.randint(1, 6),
        "how": rng.choice(["break", "cancel"]),
        "cancel_at": round(_steps(rng, 1, 12) + 0.01, 2),
        "start": _start(rng),
    }


def _merge_run(
    names: Mapping[str, Any], spec: list[list[Any]], start: float, read: Callable[..., Any], nones: list[int]
) -> Any:
    """``read(merge, streams)`` at ``start``, then WATCH s more: what read returned and the streams
    closed by then, items read from the streams after it, tasks left running."""
    closed: set[str] = set()
    streams = _streams([(every, count) for every, count in spec], closed, start, nones)

    async def main() -> Any:
        await asyncio.sleep(start)
        got = await read(names["merge"], streams)
        emit(Kind.PROBE_ENDED)
        closed_then = sorted(closed)
        await asyncio.sleep(WATCH)
        return {"got": got, "closed": closed_then}

    run = run_virtual(main, deadline=start + 120, wall_limit=WALL)
    ended = [event.time or 0.0 for event in run.of_kind(Kind.PROBE_ENDED)]
    after = [e for e in run.of_kind(Kind.STREAM_ITEM) if ended and (e.time or 0.0) > ended[0] + 1e-9]
    return {**outcome(run), "read_after": len(after), "left_running": len(run.leftover)}


def _merged(merge: Any, streams: list[Any]) -> Any:
    """``merge(*streams)``, which must be an async generator (the release's stub is a coroutine)."""
    merged = merge(*streams)
    if inspect.iscoroutine(merged):
        merged.close()  # never awaited: no warning
        raise TypeError("merge is not an async generator")
    return merged


def observe_merge(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """Virtual clock, relative to the start; each time, the streams closed when merge finished,
    items read from the streams after, tasks left running. Read to the end: each item and when it
    came (sorted: items that come together may come in any order), when merge ended. With a failing
    stream: what merge raised, and when. Stopped early: when merge finished."""
    start = scenario["start"]

    async def read_all(merge: Any, streams: list[Any]) -> Any:
        loop = asyncio.get_running_loop()
        received = [[loop.time() - start, item] async for item in _merged(merge, streams)]
        return sorted(received, key=repr), loop.time() - start

    async def read_failing(merge: Any, streams: list[Any]) -> Any:
        loop = asyncio.get_running_loop()

        async def broken() -> AsyncGenerator[str, None]:
            await asyncio.sleep(abs(scenario["fail_at"]))
            raise ItemFailed("the stream broke")
            yield "never"  # makes this an async generator

        together = [broken(), *streams] if scenario["fail_at"] < 0 else [*streams, broken()]
        try:
            async for _ in _merged(merge, together):
                pass
        except Exception as error:
            return _error(error), loop.time() - start
        return "ended", loop.time() - start

    async def read_some(merge: Any, streams: list[Any]) -> Any:
        async def consume() -> None:
            async with contextlib.aclosing(_merged(merge, streams)) as merged:
                count = 0
                async for _ in merged:
                    count += 1
                    if count == scenario["take"] and scenario["how"] == "break":
                        break

        consumer = asyncio.create_task(consume())
        if scenario["how"] == "cancel":
            await asyncio.sleep(scenario["cancel_at"])
            consumer.cancel()
        await asyncio.wait({consumer})
        if not consumer.cancelled():
            consumer.result()  # what closing merge raised, if anything
        return asyncio.get_running_loop().time() - start

    observed = {
        "all": _merge_run(names, scenario["streams"], start, read_all, scenario["nones"]),
        "stopped": _merge_run(names, scenario["stop"], start, read_some, []),
    }
    if scenario["fail_at"] is not None:
        observed["failing"] = _merge_run(names, scenario["streams"], start, read_failing, [])
    return observed


# ------------------------------------------------------------------- first_success


def draw_first_success(rng: random.Random, *, ordinary: bool = False) -> dict[str, Any]:
    """A race with ties now and then and at least one success; a race where every attempt fails.
    ``ordinary`` (as the visible check): no two attempts of a race end at the same instant."""
    count = rng.randint(1, 5)
    if ordinary:
        durations = [STEP * step for step in rng.sample(range(1, 17), count)]
    else:
        durations = [_steps(rng, 1, 6) for _ in range(count)]
    failing = rng.sample(range(len(durations)), min(rng.randint(0, len(durations) - 1) for _ in range(2)))
    wins = [number for number in range(len(durations)) if number not in failing]
    if len(wins) > 1 and not ordinary and rng.random() < 0.6:  # two successes at the same instant: the first wins
        first, second = sorted(rng.sample(wins, 2))
        durations[second] = durations[first] = min(durations[number] for number in wins)
    failures = rng.randint(1, 5)
    if ordinary:
        all_fail = [STEP * step for step in rng.sample(range(1, 17), failures)]
    else:
        all_fail = [_steps(rng, 1, 8) for _ in range(failures)]
    scenario = {"durations": durations, "failing": sorted(failing), "all_fail": all_fail, "start": _start(rng)}
    if not ordinary and rng.random() < CANCELLED_SHARE:  # before the first success
        scenario["cancel_at"] = _cancel_at(rng, min(durations[number] for number in wins))
    return scenario


def _race(names: Mapping[str, Any], durations: list[float], failing: list[int], start: float) -> Any:
    """first_success(*attempts) at ``start``, attempt i taking ``durations[i]`` s: what it returned or
    raised (an ExceptionGroup's message and exceptions, in order), when (relative), the attempts
    still running then, tasks left running."""
    work = Workload(lambda number: durations[number], failing)
    attempts = [_attempt(work, number) for number in range(len(durations))]

    async def main() -> Any:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(start)
        try:
            got: Any = {"returned": await names["first_success"](*attempts)}
        except Exception as error:
            got = {"raised": type(error).__name__}
            if isinstance(error, BaseExceptionGroup):
                got["group"] = [error.message, [repr(leaf) for leaf in leaf_exceptions(error)]]
        got["at"] = loop.time() - start
        emit(Kind.PROBE_ENDED)
        return got

    run = run_virtual(main, deadline=start + 60, wall_limit=WALL)
    return {
        **outcome(run),
        "still_running": _running(_until(run.events, Kind.PROBE_ENDED)),
        "left_running": len(run.leftover),
    }


def _attempt(work: Workload, number: int) -> Callable[[], Any]:
    async def attempt() -> Any:
        return await work(number)

    return attempt


def observe_first_success(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """Virtual clock, relative to the call: the race (its result and when, attempts still running
    then), the race where every attempt fails, and a race with no attempts at all. With
    ``cancel_at``: the race again, cancelled then (before its first success): how it ended, tasks
    left running."""
    start = scenario["start"]
    every = list(range(len(scenario["all_fail"])))
    observed = {
        "race": _race(names, scenario["durations"], scenario["failing"], start),
        "all_fail": _race(names, scenario["all_fail"], every, start),
        "none": _race(names, [], [], start),
    }
    if scenario.get("cancel_at") is not None:
        work = Workload(lambda number: scenario["durations"][number], scenario["failing"])
        attempts = [_attempt(work, number) for number in range(len(scenario["durations"]))]

        async def main() -> str:
            await asyncio.sleep(start)
            return await _cancelled(lambda: names["first_success"](*attempts), scenario["cancel_at"])

        observed["cancelled"] = _cancelled_run(main, start + 60)
    return observed


def _ordinary(draw: Callable[..., dict[str, Any]]) -> Callable[[random.Random], dict[str, Any]]:
    """``draw`` for a visible cell: inputs of the kind its check uses (still random)."""
    return functools.partial(draw, ordinary=True)


# A visible cell's probe draws inputs of the kind its check uses (still random); the hidden
# cell's draws every input the statement allows: the edge cases are the hidden cell's points.
PROBES = {
    "ch04-ex1-visible": Probe(_ordinary(draw_run_all), observe_run_all),
    "ch04-ex1-hidden": Probe(draw_run_all, observe_run_all),
    "ch04-ex2-visible": Probe(_ordinary(draw_fetch_all), observe_fetch_all),
    "ch04-ex2-hidden": Probe(draw_fetch_all, observe_fetch_all),
    "ch04-ex3-visible": Probe(_ordinary(draw_merge), observe_merge),
    "ch04-ex3-hidden": Probe(draw_merge, observe_merge),
    "ch04-ex4-visible": Probe(_ordinary(draw_first_success), observe_first_success),
    "ch04-ex4-hidden": Probe(draw_first_success, observe_first_success),
}
