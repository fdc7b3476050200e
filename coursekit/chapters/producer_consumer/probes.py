"""Chapter 1 probes: consumer, run_pipeline and serve on random items, failures, sizes and clocks.

Every run is on the virtual clock. Handler calls take durations from a list in the order the
calls start (the k-th call takes the k-th duration), so the timeline of a correct pipeline does
not depend on which consumer takes which item; times are multiples of 0.25 s after ``start``,
and the times at which something is cancelled or stopped fall between them (no ties to break).
Where items reach a consumer over time, they arrive at multiples of STEP/2 at which it waits for
one, and it is cancelled at odd multiples of STEP/4. Where a cell's checks make handlers raise
every kind of `Exception` (``every_kind``), so do its probe's scenarios now and then.
The public drawing and observing helpers below serve chapter 2's probes too.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator, Hashable, Mapping, Sequence
from typing import Any

from coursekit.analysis import in_flight, peak_in_flight
from coursekit.chapters.producer_consumer.checks import EveryKindOfFailure
from coursekit.events import Event, Kind
from coursekit.probing import Probe, outcome
from coursekit.queues import STOP, TracedQueue
from coursekit.virtual_time import VirtualRun, run_virtual
from coursekit.workload import Workload

DEADLINE = 200.0  # simulated seconds after ``start``; every scenario needs far less
STEP = 0.25  # durations and arrivals are multiples of it; cancel and stop times fall half a step off


# ------------------------------------------------------------------ drawing


def draw_start(rng: random.Random) -> float:
    """Where the virtual clock stands when a scenario starts."""
    return rng.choice([0.0, round(rng.uniform(0, 50), 2)])


def steps(rng: random.Random, low: int, high: int) -> float:
    """A duration of ``low`` to ``high`` STEPs."""
    return rng.randint(low, high) * STEP


def off_grid(rng: random.Random, before: float) -> float:
    """A time between two multiples of STEP, before ``before`` (at least STEP)."""
    return rng.randrange(max(1, round(before / STEP))) * STEP + STEP / 2


def _cancel_at(rng: random.Random, scenario: dict[str, Any], rounds: int) -> float:
    """A time before ``rounds`` shortest calls one after another have passed."""
    return off_grid(rng, rounds * min(scenario["durations"]))


def draw_items(rng: random.Random, size: int) -> list[Hashable]:
    """``size`` items, ints or strings, repeated now and then."""
    names: list[Hashable] = (
        list(range(rng.randint(-3, 5), 60)) if rng.random() < 0.5 else [a + b for a in "xyz" for b in "abcdefghijk"]
    )
    pool = rng.sample(names, min(len(names), max(1, size if rng.random() < 0.6 else size // 2 + 1)))
    return [rng.choice(pool) for _ in range(size)]


def draw_distinct_items(rng: random.Random, size: int) -> list[Hashable]:
    """``size`` distinct items (at most 33), ints or strings."""
    names: list[Hashable] = (
        list(range(rng.randint(-3, 5), 60)) if rng.random() < 0.5 else [a + b for a in "xyz" for b in "abcdefghijk"]
    )
    return rng.sample(names, min(len(names), size))


def draw_size(rng: random.Random, high: int) -> int:
    """0 or 1 now and then, else up to ``high``."""
    return rng.choice([0, 1, *[rng.randint(2, high)] * 4])


def draw_failing(rng: random.Random, items: Sequence[Hashable]) -> list[Hashable]:
    """Some of ``items`` (at least one, at most half), to fail."""
    distinct = sorted(set(items), key=repr)
    return rng.sample(distinct, rng.randint(min(1, len(distinct)), (len(distinct) + 1) // 2)) if distinct else []


def every_kind(rng: random.Random, scenario: dict[str, Any]) -> dict[str, Any]:
    """``scenario`` (with ``items`` and ``failing``), half the time with its failing items raising every
    kind of Exception (``every_kind``: the n-th failing item in repr order the n-th of FAILURE_KINDS,
    cycled), and then three to seven of its distinct items failing (all, when there are fewer), so that
    the draws reach each kind."""
    if rng.random() < 0.5:
        return {**scenario, "every_kind": False}
    distinct = sorted(set(scenario["items"]), key=repr)
    failing = rng.sample(distinct, rng.randint(min(len(distinct), rng.randint(3, 7)), len(distinct)))
    return {**scenario, "failing": failing, "every_kind": True}


def draw_durations(rng: random.Random) -> list[float]:
    """One to four call durations, each 1 to 12 STEPs."""
    return [steps(rng, 1, 12) for _ in range(rng.randint(1, 4))]


def by_call_order(durations: Sequence[float], failing: Sequence[Hashable], *, every_kind: bool = False) -> Workload:
    """A handler whose k-th call started takes the k-th of ``durations`` (cycled); the ``failing``
    items raise ItemFailed or, with ``every_kind``, Exceptions of every kind (:class:`EveryKindOfFailure`)."""
    cycle = itertools.cycle(durations)
    return (EveryKindOfFailure if every_kind else Workload)(lambda _item: next(cycle), failing)


def _work(scenario: dict[str, Any]) -> Workload:
    return by_call_order(scenario["durations"], scenario["failing"], every_kind=scenario.get("every_kind", False))


# --------------------------------------------------------------- observing


def pairs(table: Mapping[Any, Any]) -> list[Any]:
    """A dict as [key, value] pairs, in a fixed order."""
    return sorted(([key, value] for key, value in table.items()), key=repr)


def error_of(error: Any) -> list[str]:
    """An exception (or whatever stands for one) as its type's name and its message."""
    return [type(error).__name__, str(error)]


def _recorded(value: Any) -> dict[str, Any]:
    """``(results, failures)``: each result, and each failure as its exception's type and message."""
    if not (isinstance(value, tuple) and len(value) == 2 and all(isinstance(part, dict) for part in value)):
        return {"not_a_pair": type(value).__name__}
    results, failures = value
    return {"results": pairs(results), "failures": pairs({item: error_of(e) for item, e in failures.items()})}


def _handled(work: Workload) -> dict[str, Any]:
    """How often each item's handler call started and ran to its end."""
    return {"calls": pairs(work.calls), "completed": pairs(work.completed)}


def _queue(events: list[Event], maxsize: int) -> dict[str, Any]:
    """The queue's maxsize(s), how far it went over ``maxsize``, and who took items from it."""
    puts = [event for event in events if event.kind == Kind.QUEUE_PUT]
    peak = max((event["depth"] for event in puts), default=0)
    return {
        "maxsize": sorted({event["maxsize"] for event in puts}),
        "overfull": max(0, peak - maxsize),
        "takers": sorted({str(event.task) for event in events if event.kind == Kind.QUEUE_GET}),
    }


def timeline(run: VirtualRun[Any]) -> dict[str, Any]:
    """The number of handler calls in flight at each instant it changed, the most at once (every
    start counted before the ends of its instant), tasks left running, and when the run ended."""
    times, counts = in_flight(run.events)
    return {
        "in_flight": [times, counts],
        "peak": peak_in_flight(run.events),
        "left_running": len(run.leftover),
        "ended": run.elapsed,
    }


async def cancel_after(task: asyncio.Task[Any], delay: float) -> float:
    """Cancel ``task`` ``delay`` s from now (unless it has ended by then) and wait for it to end;
    the loop time of the cancellation."""
    await asyncio.wait({task}, timeout=delay)
    cancelled = asyncio.get_running_loop().time()
    task.cancel()
    await asyncio.wait({task})
    return cancelled


def ended_as(task: asyncio.Task[Any]) -> Any:
    """How a finished task ended."""
    if task.cancelled():
        return "cancelled"
    error = task.exception()
    return "returned" if error is None else {"raised": type(error).__name__}


# ---------------------------------------------------------------- consumer


def draw_consumer(rng: random.Random, *, repeats: bool = True) -> dict[str, Any]:
    """Items (repeated now and then, unless ``repeats`` is False), some failing, call durations."""
    size = draw_size(rng, 12)
    items = draw_items(rng, size) if repeats else draw_distinct_items(rng, size)
    return {
        "items": items,
        "failing": draw_failing(rng, items),
        "durations": draw_durations(rng),
        "start": draw_start(rng),
    }


def draw_consumer_cancelled(rng: random.Random) -> dict[str, Any]:
    """A consumer scenario, and when to cancel the consumer in a second run of it; half the time the
    failing items raise every kind of Exception (:func:`every_kind`), and a third of the time the items
    arrive over time (``arrive``, see :func:`draw_arrivals`), the consumer then cancelled mostly while
    it waits in get()."""
    scenario = every_kind(rng, draw_consumer(rng))
    if rng.random() < 1 / 3:
        arrive, waits = draw_arrivals(rng, len(scenario["items"]), scenario["durations"])
        low, high = rng.choice(waits) if waits and rng.random() < 0.7 else (0.0, max(arrive) + STEP)
        quarters = round((high - low) / (STEP / 4))  # cancelled at an odd multiple of STEP/4 in there
        return {**scenario, "arrive": arrive, "cancel_at": low + (2 * rng.randrange(quarters // 2) + 1) * STEP / 4}
    rounds = len(scenario["items"]) * rng.choice([1, 1, 1, 3])  # then and now after the end
    return {**scenario, "cancel_at": _cancel_at(rng, scenario, rounds)}


def draw_arrivals(rng: random.Random, size: int, durations: Sequence[float]) -> tuple[list[float], list[list[float]]]:
    """When each of ``size`` items, then STOP, is put in the queue of one consumer (s after it starts,
    multiples of STEP/2, in order), and the spans in which that consumer waits in get() for the next:
    an entry comes with the one before it, or some time after the consumer has handled every earlier
    item (the k-th call taking the k-th of ``durations``, cycled), never as a call ends."""
    arrive: list[float] = []
    waits: list[list[float]] = []
    now = ready = 0.0  # when the last entry was put; when the consumer is done with the items so far
    for index in range(size + 1):
        if index and rng.random() < 0.5:
            waits.append([ready, ready + rng.randint(1, 6) * STEP / 2])
            now = waits[-1][1]
        arrive.append(now)
        if index < size:
            ready = max(ready, now) + durations[index % len(durations)]
    return arrive, waits


def _consume(names: Mapping[str, Any], scenario: dict[str, Any], cancel_at: float | None) -> dict[str, Any]:
    """One consumer on a queue holding the items then STOP (or, with ``arrive``, fed each entry that
    many s after the consumer started), started at ``start`` (cancelled ``cancel_at`` s later, if
    given): how it ended, what it recorded and handled, its task_done() calls (loop time, items left
    unfinished), and what it put back."""
    work, queue = _work(scenario), TracedQueue()
    results: dict[Any, Any] = {}
    failures: dict[Any, Any] = {}
    entries = [*scenario["items"], STOP]
    arrive = scenario.get("arrive", [0.0] * len(entries))

    async def feed() -> None:
        previous = 0.0
        for entry, at in zip(entries, arrive, strict=True):
            if at > previous:
                await asyncio.sleep(at - previous)
                previous = at
            queue.put_nowait(entry)

    async def main() -> Any:
        await asyncio.sleep(scenario["start"])
        feeder = asyncio.create_task(feed(), name="feeder")
        await asyncio.sleep(0)  # the entries due at once are in the queue before the consumer starts
        task = asyncio.create_task(names["consumer"](queue, work, results, failures), name="consumer-1")
        if cancel_at is not None:
            await cancel_after(task, cancel_at)
        await asyncio.wait({task})
        await asyncio.wait({feeder})
        return {"consumer": ended_as(task)}

    run = run_virtual(main, deadline=scenario["start"] + DEADLINE, wall_limit=2.0)
    return {
        **outcome(run),
        **_recorded((results, failures)),
        **_handled(work),
        "task_done": [[event.time, event["unfinished"]] for event in run.of_kind(Kind.QUEUE_TASK_DONE)],
        "taken": len(run.of_kind(Kind.QUEUE_GET)),
        "put_back": queue.put_count - len(scenario["items"]) - 1,
        "ended": run.elapsed,
    }


def observe_consumer(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """The consumer drains a queue (see ``_consume``)."""
    return _consume(names, scenario, None)


def observe_consumer_cancelled(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """The consumer drains a queue; then, in a second run, it is cancelled at ``cancel_at``."""
    return {"drained": _consume(names, scenario, None), "cancelled": _consume(names, scenario, scenario["cancel_at"])}


# ------------------------------------------------------------ run_pipeline


def draw_pipeline(rng: random.Random) -> dict[str, Any]:
    sources = [draw_items(rng, draw_size(rng, 7)) for _ in range(draw_size(rng, 5))]
    items = [item for source in sources for item in source]
    return {
        "sources": sources,
        "consumers": rng.randint(1, 5),
        "maxsize": rng.randint(1, 5),
        "failing": draw_failing(rng, items),
        "durations": draw_durations(rng),
        "start": draw_start(rng),
    }


def draw_pipeline_cancelled(rng: random.Random) -> dict[str, Any]:
    """A pipeline scenario with more items than the consumers and the queue hold at once, and when
    to cancel the pipeline in a second run of it: mostly while producers still wait for room."""
    scenario = draw_pipeline(rng)
    sources = [source for source in scenario["sources"] if source]
    room = scenario["consumers"] + scenario["maxsize"] - sum(map(len, sources))
    if room >= 0:
        sources.append(list(range(100, 101 + room + rng.randint(0, 4))))
    rounds = -(-sum(map(len, sources)) // scenario["consumers"])
    cancel_at = _cancel_at(rng, scenario, rng.choice([1, 1, rounds]))
    return {**scenario, "sources": sources, "cancel_at": cancel_at}


def _producers(events: list[Event]) -> list[list[Any]]:
    """The items (STOPs left out) each task put, in order; the tasks in no particular order."""
    put_by: dict[str | None, list[Any]] = {}
    for event in events:
        if event.kind == Kind.QUEUE_PUT and event["item"] is not STOP:
            put_by.setdefault(event.task, []).append(event["item"])
    return sorted(put_by.values(), key=repr)


def _stops(events: list[Event]) -> dict[str, int]:
    """How many STOPs were put, and how many of them before the last item."""
    puts = [event["item"] is STOP for event in events if event.kind == Kind.QUEUE_PUT]
    last_item = max((index for index, stop in enumerate(puts) if not stop), default=-1)
    return {"stops": sum(puts), "stops_early": sum(puts[:last_item])}


def _pipeline_run(
    names: Mapping[str, Any], scenario: dict[str, Any], cancel_at: float | None
) -> tuple[VirtualRun[Any], Workload, list[bool]]:
    work = _work(scenario)
    cancelled: list[bool] = []

    async def main() -> Any:
        await asyncio.sleep(scenario["start"])
        sources = [list(source) for source in scenario["sources"]]
        call = names["run_pipeline"](sources, work, consumers=scenario["consumers"], maxsize=scenario["maxsize"])
        if cancel_at is None:
            return _recorded(await call)
        pipeline = asyncio.create_task(call, name="pipeline")
        await asyncio.sleep(cancel_at)
        pipeline.cancel()
        await asyncio.wait({pipeline})
        cancelled.append(pipeline.cancelled())
        await asyncio.sleep(0)  # let anything it left behind show itself

    run = run_virtual(main, deadline=scenario["start"] + DEADLINE, wall_limit=2.0)
    return run, work, cancelled


def observe_pipeline(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """``run_pipeline`` started at ``start``: what it returned and when, each item's handler calls,
    the calls in flight over time, the queue's bound, who put what, the STOPs, and the consumers."""
    run, work, _ = _pipeline_run(names, scenario, None)
    return {
        **outcome(run),
        **_handled(work),
        **timeline(run),
        **_queue(run.events, scenario["maxsize"]),
        **_stops(run.events),
        "producers": _producers(run.events),
    }


def observe_pipeline_cancelled(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """As :func:`observe_pipeline`; then, in a second run, the pipeline is cancelled at ``cancel_at``:
    whether it ended cancelled, the calls in flight until then, and the tasks it left running."""
    run, work, cancelled = _pipeline_run(names, scenario, scenario["cancel_at"])
    return {
        "whole": observe_pipeline(names, scenario),
        "cancelled": {**outcome(run), "ended_cancelled": cancelled, **_handled(work), **timeline(run)},
    }


# ------------------------------------------------------------------- serve


def draw_serve(rng: random.Random) -> dict[str, Any]:
    stop_at = None if rng.random() < 0.25 else off_grid(rng, 12.0)
    items = draw_size(rng, 14) if stop_at is None or rng.random() < 0.3 else 1000
    return {
        "items": items,
        "every": steps(rng, 1, 8),
        "stop_at": stop_at,
        "consumers": rng.randint(1, 4),
        "maxsize": rng.randint(1, 5),
        "failing": rng.sample(range(40), rng.randint(0, 6)),
        "durations": draw_durations(rng),
        "start": draw_start(rng),
    }


def draw_serve_cancelled(rng: random.Random) -> dict[str, Any]:
    """A serve scenario; a quarter of the time, with a source of one item or more, serve's task is
    cancelled ``cancel_at`` s after it started: an odd multiple of STEP/4 before the source has given
    every item and before ``stop`` is set (never the instant of an arrival, a call end or the stop)."""
    scenario = draw_serve(rng)
    if rng.random() >= 0.25:
        return scenario
    items = scenario["items"] or rng.randint(1, 14)
    horizon = min(items * scenario["every"], scenario["stop_at"] or DEADLINE)
    quarters = int(horizon / (STEP / 4))  # odd multiples of STEP/4 below horizon: 1, 3, ... < quarters
    return {**scenario, "items": items, "cancel_at": (2 * rng.randrange(quarters // 2) + 1) * STEP / 4}


def observe_serve_cancelled(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """As :func:`observe_serve`; with ``cancel_at``, only how serve ended when its task was cancelled
    then (the statement asks nothing else of a cancelled serve)."""
    if "cancel_at" not in scenario:
        return observe_serve(names, scenario)
    return _serve(names, scenario, scenario["cancel_at"])[0]


def observe_serve(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """``serve`` started at ``start`` on a source whose next item arrives ``every`` s after it is
    asked for, with ``stop`` set ``stop_at`` s later (never if None): what it returned and when,
    how many items it took from the source, each item's handler calls, the calls in flight over
    time, the queue's bound and the consumers."""
    ended, run, work, taken = _serve(names, scenario, None)
    return {
        **ended,
        "taken": len(taken),
        **_handled(work),
        **timeline(run),
        **_queue(run.events, scenario["maxsize"]),
    }


def _serve(
    names: Mapping[str, Any], scenario: dict[str, Any], cancel_at: float | None
) -> tuple[dict[str, Any], VirtualRun[Any], Workload, list[int]]:
    """A run of :func:`observe_serve`'s scenario, its task cancelled ``cancel_at`` s after it started
    (if given): how it ended (the run's outcome, and how serve's task ended when cancelled), the run,
    the handler, and the items taken from the source."""
    work, taken = _work(scenario), []

    async def arrivals() -> AsyncIterator[int]:
        for item in range(scenario["items"]):
            await asyncio.sleep(scenario["every"])
            taken.append(item)
            yield item

    async def main() -> Any:
        await asyncio.sleep(scenario["start"])
        stop = asyncio.Event()
        if scenario["stop_at"] is not None:
            asyncio.get_running_loop().call_later(scenario["stop_at"], stop.set)
        call = names["serve"](arrivals(), work, consumers=scenario["consumers"], maxsize=scenario["maxsize"], stop=stop)
        if cancel_at is None:
            return _recorded(await call)
        task = asyncio.create_task(call, name="serve")
        await cancel_after(task, cancel_at)
        return {"serve": ended_as(task)}

    run = run_virtual(main, deadline=scenario["start"] + DEADLINE, wall_limit=2.0)
    return outcome(run), run, work, taken


# The visible cell's checks give every item once (its statement sentence about repeated items is
# graded by the hidden cell): its probe does the same.
CONSUMER = Probe(lambda rng: draw_consumer(rng, repeats=False), observe_consumer)
CONSUMER_CANCELLED = Probe(draw_consumer_cancelled, observe_consumer_cancelled)
PIPELINE = Probe(draw_pipeline, observe_pipeline)
PIPELINE_CANCELLED = Probe(draw_pipeline_cancelled, observe_pipeline_cancelled)
SERVE = Probe(draw_serve, observe_serve)
SERVE_CANCELLED = Probe(draw_serve_cancelled, observe_serve_cancelled)
PROBES = {
    "ch01-ex1-visible": CONSUMER,
    "ch01-ex1-hidden": CONSUMER_CANCELLED,
    "ch01-ex2-visible": PIPELINE,
    "ch01-ex2-hidden": PIPELINE_CANCELLED,
    "ch01-ex3-visible": SERVE,
    "ch01-ex3-hidden": SERVE_CANCELLED,
}
