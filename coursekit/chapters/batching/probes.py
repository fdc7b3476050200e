"""Chapter 3 probes: collect_batch, deliver, MicroBatcher and process_in_chunks on random scenarios.

Clock: every run is on the virtual clock of :func:`~coursekit.virtual_time.run_virtual`, which
starts at 0; scenario times are absolute. Arrival times sit on a grid of 0.1 s (from a random
``start``), ``max_wait`` is an odd multiple of 0.05 s and the probe's own instants (close,
abort, cancel) are 0.03 s off the grid, so nothing ever happens at exactly a batch's deadline:
the one instant the rule leaves open. Entries that arrive together are put, and callers that
arrive together submit, in scenario order.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import random
from collections.abc import Mapping
from typing import Any

from coursekit.analysis import idle_slots, peak_in_flight
from coursekit.chapters.batching.analysis import batch_handler_calls
from coursekit.chapters.batching.checks import expected_batches
from coursekit.events import Kind, emit
from coursekit.probing import Probe, outcome
from coursekit.queues import STOP
from coursekit.scenario import sleep_until
from coursekit.virtual_time import run_virtual
from coursekit.workload import BatchWorkload, ItemFailed, find_item_failure

TICK = 0.1  # the arrival grid
OFF_GRID = 0.03  # the probe's own instants: never an arrival, a deadline or a handler's end
GRACE = 10.0  # virtual seconds close() / abort() get to return
WALL = 2.0  # real seconds a scenario may block the loop
CANCELLED_SHARE = 0.3  # of a hidden cell's scenarios: its code cancelled while it waits
GIVE_UP_SHARE = 0.5  # of the failures cell's scenarios: callers who give up (its cells are 10 scenarios each)


def _start(rng: random.Random) -> float:
    return rng.choice([0.0, round(rng.uniform(0, 50), 2)])


def _max_wait(rng: random.Random) -> float:
    """An odd multiple of 0.05 s (0 now and then): no arrival on the grid is ever on a deadline."""
    return 0.0 if rng.random() < 0.15 else round(0.05 + TICK * rng.randint(0, 8), 2)


def _arrivals(rng: random.Random, count: int, start: float, together: bool) -> list[float]:
    """``count`` times on the grid from ``start``; equal times only if ``together``."""
    gaps = [0, 1, 1, 2, 3, 5, 12] if together else [1, 1, 2, 3, 5, 12]
    ticks = list(itertools.accumulate(rng.choice(gaps) for _ in range(count)))
    return [round(start + TICK * tick, 3) for tick in ticks]


def _items(rng: random.Random, count: int) -> list[int]:
    """Small ints, repeated now and then (two callers may submit equal items)."""
    return [rng.randint(0, max(2, count)) for _ in range(count)]


def _distinct_items(rng: random.Random, count: int) -> list[int]:
    """``count`` distinct small ints, in ascending order (as the visible checks give them)."""
    return sorted(rng.sample(range(3 * count + 3), count))


def _entry(entry: Any) -> Any:
    return "STOP" if entry is STOP else entry


def _error(error: BaseException) -> list[str]:
    """An error as observed: its type, and its message only where the scenario fixes it (ItemFailed)."""
    return [type(error).__name__, str(error)] if isinstance(error, ItemFailed) else [type(error).__name__]


def _future(future: asyncio.Future[Any]) -> Any:
    """What a caller's future holds."""
    if not future.done():
        return "pending"
    if future.cancelled():
        return "cancelled"
    error = future.exception()
    return ["error", *_error(error)] if error is not None else ["result", future.result()]


def _by_time(pairs: list[tuple[float, Any]]) -> list[tuple[float, list[Any]]]:
    """Consecutive pairs with the same time, grouped: (time, [values])."""
    return [(time, [value for _, value in group]) for time, group in itertools.groupby(pairs, key=lambda p: p[0])]


def _now() -> float:
    return asyncio.get_running_loop().time()


async def _settle() -> None:
    """A few loop turns, at the same instant: tasks cancelled just now (a getter cancelled in a
    ``finally:``) finish, so only a task left waiting counts as left running."""
    for _ in range(3):
        await asyncio.sleep(0)


def _note_end(ended: list[float], task: asyncio.Future[Any]) -> None:
    """A done callback: when ``task`` ended."""
    ended.append(task.get_loop().time())


# ------------------------------------------------------------------- collect_batch


def draw_collect(rng: random.Random) -> dict[str, Any]:
    max_wait = _max_wait(rng)
    stop = rng.random() < 0.6
    count = rng.randint(0 if stop else 1, 14)
    times = _arrivals(rng, count, _start(rng), together=max_wait > 0)
    stop_at = None
    if stop:
        stop_at = round((times[-1] if times else _start(rng)) + TICK * rng.choice([0 if max_wait else 1, 1, 3, 9]), 3)
    scenario: dict[str, Any] = {
        "arrivals": [[time, item] for time, item in zip(times, _items(rng, count), strict=True)],
        "batch_size": rng.choice([1, 2, 3, 3, 4, 5, 20]),
        "max_wait": max_wait,
        "stop_at": stop_at,
    }
    if rng.random() < CANCELLED_SHARE:  # the calls cancelled while one of them waits
        first = times[0] if times else stop_at or 0.0  # no entry: then there is a STOP
        last = max(times[-1] + max_wait if times else 0.0, stop_at or 0.0)
        ticks = round((last - first) / TICK) + 2
        scenario["cancel_at"] = round(max(OFF_GRID, first - TICK + OFF_GRID + TICK * rng.randint(0, ticks)), 3)
    return scenario


def draw_collect_ordinary(rng: random.Random) -> dict[str, Any]:
    """As the visible check: more entries than ``batch_size`` (2 to 5), at distinct times, a
    ``max_wait`` above 0, and (mostly) a STOP that comes while the last batch is still open, so
    that it joins it; never a STOP alone in its batch, nor ``max_wait=0`` (the hidden cell's)."""
    batch_size = rng.randint(2, 5)
    max_wait = round(0.05 + TICK * rng.randint(1, 8), 2)
    count = rng.randint(batch_size + 1, 14)
    times = _arrivals(rng, count, _start(rng), together=False)
    arrivals = [[time, item] for time, item in zip(times, _distinct_items(rng, count), strict=True)]
    last = expected_batches([(time, item) for time, item in arrivals], batch_size, max_wait)[-1]
    room = [
        round(times[-1] + TICK * ticks, 3) for ticks in range(1, 9) if times[-1] + TICK * ticks < last.first + max_wait
    ]
    stop_at = rng.choice(room) if room and last.reason == "timeout" and rng.random() < 0.7 else None
    return {"arrivals": arrivals, "batch_size": batch_size, "max_wait": max_wait, "stop_at": stop_at}


def _put_all(inbox: asyncio.Queue[Any], entries: list[Any]) -> None:
    for entry in entries:
        inbox.put_nowait(entry)


def observe_collect(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """collect_batch called again each time it returns, entries put at their times (then STOP at
    ``stop_at``, if any): each batch it returned and when (virtual time), until STOP, or until
    every entry came out when there is no STOP. With ``cancel_at`` (off the grid: never an arrival
    nor a deadline), the task making the calls is cancelled then: the batches returned before, how
    that task ended (cancelled: the CancelledError came out of collect_batch) and when, and how
    many tasks were left running."""
    collect_batch = names["collect_batch"]
    arrivals = scenario["arrivals"]
    stream = [(time, item) for time, item in arrivals]
    if scenario["stop_at"] is not None:
        stream.append((scenario["stop_at"], STOP))
    got: list[Any] = []

    async def collect() -> list[Any]:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[Any] = asyncio.Queue()
        for time, entries in _by_time(stream):
            loop.call_at(time, _put_all, inbox, entries)
        taken = 0
        while True:
            batch = list(await collect_batch(inbox, scenario["batch_size"], scenario["max_wait"]))
            got.append([loop.time(), [_entry(entry) for entry in batch]])
            taken += len(batch)
            if any(entry is STOP for entry in batch) or (scenario["stop_at"] is None and taken >= len(arrivals)):
                return got
            if len(got) > 2 * len(arrivals) + 2:  # empty batches, again and again
                return got

    last = max((time for time, _ in stream), default=0.0)
    cancel_at = scenario.get("cancel_at")
    if cancel_at is None:
        return outcome(run_virtual(collect, deadline=last + 30, wall_limit=WALL))

    async def cancelled() -> dict[str, Any]:
        task = asyncio.create_task(collect())
        await asyncio.wait({task}, timeout=cancel_at)
        task.cancel()
        await asyncio.wait({task})
        await _settle()
        return {"batches": got, "ended": [_task_end(task), _now()]}

    run = run_virtual(cancelled, deadline=max(last, cancel_at) + 30, wall_limit=WALL)
    return {**outcome(run), "left_running": len(run.leftover)}


# ------------------------------------------------------------------------- deliver

KINDS = ("ok", "fails", "short", "long", "torn_down")


def draw_deliver(rng: random.Random, *, ordinary: bool = False) -> dict[str, Any]:
    """Batches of each kind (some of them); callers at ``gave_up`` positions gave up before. Unless
    ``ordinary``: items repeated and unsorted now and then, callers who gave up in any batch, a
    result count off by up to the batch's size, an instant handler now and then. ``ordinary`` (as
    the visible check): distinct items in ascending order, callers giving up only in a batch
    whose handler succeeds, one result too few or too many, a handler that takes a while."""
    cases = []
    for kind in rng.sample(KINDS, rng.randint(2, len(KINDS))):
        count = rng.randint(1, 6)
        items = _distinct_items(rng, count) if ordinary else _items(rng, count)
        quitters = rng.choice([0, 0, 1, len(items) // 2]) if kind == "ok" or not ordinary else 0
        gave_up = sorted(rng.sample(range(len(items)), quitters))
        failing = rng.choice(items)
        miscount = rng.randint(1, len(items)) if kind == "short" else rng.randint(1, 3)
        cases.append(
            {
                "kind": kind,
                "items": items,
                "gave_up": gave_up,
                "failing": failing,
                "miscount": 1 if ordinary else miscount,
            }
        )
    duration = round(TICK * rng.randint(1, 30), 2)
    if not ordinary:
        duration = rng.choice([0.0, duration])
    return {"cases": cases, "duration": duration, "cancel_at": round(TICK * rng.randint(0, 40) + OFF_GRID, 3)}


def _case_handler(case: dict[str, Any], duration: float) -> tuple[BatchWorkload, Any]:
    """The case's batch API (it records the calls) and the handler deliver is given."""
    torn = case["kind"] == "torn_down"
    work = BatchWorkload(1000.0 if torn else duration, [case["failing"]] if case["kind"] == "fails" else [])

    async def handler(items: list[Any]) -> list[Any]:
        results = await work(items)
        if case["kind"] == "short":
            return results[: len(results) - case["miscount"]]
        if case["kind"] == "long":
            return results + [("extra", n) for n in range(case["miscount"])]
        return results

    return work, handler


def observe_deliver(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """deliver() on each case's batch, all at once (virtual clock from 0): the handler's calls, how
    and when deliver ended, and what each future holds. A torn-down case's handler takes 1000 s and
    its delivery is cancelled at ``cancel_at``; futures at ``gave_up`` positions are cancelled before."""
    deliver = names["deliver"]

    async def main() -> list[Any]:
        loop = asyncio.get_running_loop()
        runs = []
        for case in scenario["cases"]:
            work, handler = _case_handler(case, scenario["duration"])
            futures = [loop.create_future() for _ in case["items"]]
            for position in case["gave_up"]:
                futures[position].cancel()
            task = asyncio.create_task(deliver(list(zip(case["items"], futures, strict=True)), handler))
            ended: list[float] = []
            task.add_done_callback(functools.partial(_note_end, ended))
            runs.append((case, work, futures, task, ended))
        await asyncio.sleep(scenario["cancel_at"])
        for case, _, _, task, _ in runs:
            if case["kind"] == "torn_down":
                task.cancel()
        await asyncio.wait([task for *_, task, _ in runs], timeout=GRACE)
        observed = [
            {
                "calls": work.batches,
                "deliver": _task_end(task),
                "ended": ended[0] if ended else None,
                "futures": [_future(future) for future in futures],
            }
            for _, work, futures, task, ended in runs
        ]
        for *_, task, _ in runs:
            task.cancel()
        return observed

    return outcome(run_virtual(main, deadline=scenario["cancel_at"] + 2 * GRACE, wall_limit=WALL))


def _task_end(task: asyncio.Task[Any]) -> Any:
    if not task.done():
        return "running"
    if task.cancelled():
        return "cancelled"
    error = task.exception()
    return ["raised", *_error(error)] if error is not None else "returned"


# -------------------------------------------------------------------- MicroBatcher


def _groups(rng: random.Random, size: int, count: int, start: float) -> list[float]:
    """``count`` groups of ``size`` callers after ``start``, each group within ``0.1 * (size - 1)`` s
    (less than max_wait): with ``size=batch_size`` every batch fills up, so what the batcher does with
    max_wait does not matter."""
    times: list[float] = []
    at = start
    for _ in range(count):
        at += TICK * rng.randint(1, 15)
        for _ in range(size):
            times.append(round(at, 3))
            at += TICK * rng.choice([0, 1])
    return times


def draw_flushes(rng: random.Random) -> dict[str, Any]:
    """Random arrivals (bursts, gaps, lone items) and an instant handler."""
    count = rng.randint(1, 16)
    max_wait = _max_wait(rng)
    times = _arrivals(rng, count, _start(rng), together=max_wait > 0)
    return {
        "arrivals": [[time, item] for time, item in zip(times, _items(rng, count), strict=True)],
        "batch_size": rng.randint(1, 5),
        "max_wait": max_wait,
        "duration": 0.0,
        "end_at": round(times[-1] + max_wait + 1 + OFF_GRID, 3),
    }


def draw_results(rng: random.Random) -> dict[str, Any]:
    """Random arrivals of repeated items; a handler that takes a while. close() comes once every
    batch is done even if the handler calls ran one after another: when they overlap is another
    cell's behaviour (the slow-handler cell's), and this cell's checks close late enough."""
    scenario = draw_flushes(rng)
    scenario["duration"] = round(TICK * rng.randint(0, 20), 2)
    serial = scenario["duration"] * len(scenario["arrivals"])  # one batch per caller, at worst
    scenario["end_at"] = round(scenario["end_at"] + serial, 3)
    return scenario


def draw_groups(rng: random.Random) -> dict[str, Any]:
    """Full batches only (max_wait is longer than a group takes to arrive); one item in some of them
    fails. close() comes once every batch is done even if the handler calls ran one after another:
    when they overlap is the slow-handler cell's behaviour, and this cell's checks close late enough."""
    batch_size = rng.randint(1, 5)
    times = _groups(rng, batch_size, rng.randint(1, 4), _start(rng))
    items = list(range(len(times)))
    duration = round(TICK * rng.randint(0, 30), 2)
    max_wait = round(0.05 + TICK * rng.randint(batch_size, batch_size + 5), 2)
    serial = (duration + max_wait) * (len(times) // batch_size)  # every batch after the one before
    return {
        "arrivals": [[time, item] for time, item in zip(times, items, strict=True)],
        "batch_size": batch_size,
        "max_wait": max_wait,
        "duration": duration,
        "failing": rng.sample(items, min(len(items), rng.choice([1, 1, 2, 3]))),
        "end_at": round(times[-1] + serial + 1 + OFF_GRID, 3),
    }


def draw_failures(rng: random.Random) -> dict[str, Any]:
    """:func:`draw_groups`; and, now and then, callers who give up (their tasks cancelled) while
    their batch's handler runs, ``OFF_GRID`` s after their group's last caller came (which fills the
    batch): the batches are what they would be without them."""
    scenario = draw_groups(rng)
    scenario["give_up"] = []
    if scenario["duration"] > 0 and rng.random() < GIVE_UP_SHARE:
        size = scenario["batch_size"]
        callers = range(len(scenario["arrivals"]))
        scenario["give_up"] = sorted(rng.sample(callers, rng.randint(1, min(3, len(callers)))))
        scenario["give_up_at"] = [
            round(scenario["arrivals"][(n // size) * size + size - 1][0] + OFF_GRID, 3) for n in scenario["give_up"]
        ]
    return scenario


def draw_close(rng: random.Random) -> dict[str, Any]:
    """Full batches, then (mostly) a partial batch still open at ``end_at``, then (now and then)
    callers after it; the same callers with abort() at ``abort_at`` instead."""
    batch_size = rng.randint(1, 5)
    start = _start(rng)
    max_wait = round(0.05 + TICK * rng.randint(batch_size, batch_size + 5), 2)
    times = _groups(rng, batch_size, rng.randint(0, 4), start)
    if batch_size > 1 and rng.random() < 0.8:  # a partial batch, still open at end_at
        times += _groups(rng, rng.randint(1, batch_size - 1), 1, (times or [start])[-1])
    last = (times or [start])[-1]
    times += _arrivals(rng, rng.choice([0, 0, 1, 2]), last, False)
    ticks = round((last - start) / TICK)
    abort_at = start + TICK * rng.randint(0, ticks + 10) if rng.random() < 0.4 else rng.choice(times or [start])
    return {
        "arrivals": [[time, item] for time, item in zip(times, _items(rng, len(times)), strict=True)],
        "batch_size": batch_size,
        "max_wait": max_wait,
        "duration": round(TICK * rng.randint(1, 30), 2),
        "end_at": round(last + OFF_GRID, 3),
        "abort_at": round(abort_at + OFF_GRID, 3),  # mostly just after a caller came: a batch is open
    }


def draw_slow_handler(rng: random.Random) -> dict[str, Any]:
    """Full batches behind a handler slower than the gaps between them."""
    scenario = draw_groups(rng)
    scenario["duration"] = round(TICK * rng.randint(10, 40), 2)
    scenario["failing"] = []
    scenario["end_at"] = round(scenario["arrivals"][-1][0] + scenario["duration"] + 1 + OFF_GRID, 3)
    return scenario


def serve(names: Mapping[str, Any], scenario: dict[str, Any], ending: str = "close") -> dict[str, Any]:
    """Callers submit to ``MicroBatcher`` at their times; ``ending`` (close, then close again at
    once; or abort) at ``end_at`` (``abort_at`` for abort); once it returned and every caller has
    arrived, one more submit(). Observed, in virtual time: how the run went; the handler's calls
    (time, items) and their ends (time, items, outcome); each caller's outcome and when it came;
    when the ending (and the second close) returned, or how it failed; the late submit; futures
    left in ``_waiting``; tasks left running. The callers at ``give_up`` positions give up (their
    tasks are cancelled) at the ``give_up_at`` times."""
    work = BatchWorkload(scenario["duration"], scenario.get("failing", ()))
    arrivals = scenario["arrivals"]
    end_at = scenario["abort_at"] if ending == "abort" else scenario["end_at"]

    async def main() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        batcher = names["MicroBatcher"](work, batch_size=scenario["batch_size"], max_wait=scenario["max_wait"])
        callers: list[tuple[asyncio.Task[Any], list[float]]] = []

        def arrive(items: list[Any]) -> None:
            for item in items:
                task = asyncio.create_task(batcher.submit(item))
                done_at: list[float] = []
                task.add_done_callback(functools.partial(_note_end, done_at))
                callers.append((task, done_at))

        for time, items in _by_time([(time, item) for time, item in arrivals]):
            loop.call_at(time, arrive, items)
        for number, at in zip(scenario.get("give_up", ()), scenario.get("give_up_at", ()), strict=True):
            loop.call_at(at, functools.partial(_give_up, callers, number))
        await asyncio.sleep(end_at)
        end = asyncio.create_task(getattr(batcher, ending)())
        again = asyncio.create_task(_close_again(batcher)) if ending == "close" else None
        await asyncio.wait({end}, timeout=GRACE)
        ended = loop.time() if end.done() else None
        await sleep_until(max((time for time, _ in arrivals), default=0.0))
        for _ in range(3):  # callers whose futures were just resolved finish now
            await asyncio.sleep(0)
        observed = {
            "end": [_task_end(end), ended],
            "again": again.result() if again is not None and again.done() else None,
            "callers": [[_future(task), done_at[0] if done_at else None] for task, done_at in callers],
            "late": await _late_submit(batcher) if end.done() else None,
            "kept": len(getattr(batcher, "_waiting", ())),
        }
        mine = [end, *([again] if again else []), *(task for task, _ in callers)]
        for task in mine:
            task.cancel()
        await asyncio.wait(mine)
        return observed

    run = run_virtual(main, deadline=end_at + 3 * GRACE + scenario["duration"] + 10, wall_limit=WALL)
    ends = sorted(([e.time, list(e["item"]), e["outcome"]] for e in run.of_kind(Kind.WORK_END)), key=repr)
    return {
        "run": run.outcome if run.outcome != "raised" else ["raised", type(run.error).__name__],
        **(run.value or {}),
        "calls": [[time, items] for time, items in batch_handler_calls(run.events)],
        "ends": ends,
        "left_running": len(run.leftover),
    }


def _give_up(callers: list[tuple[asyncio.Task[Any], list[float]]], number: int) -> None:
    """Caller ``number`` gives up: its task is cancelled."""
    callers[number][0].cancel()


def _pick(observed: dict[str, Any], *keys: str, times: bool = True) -> dict[str, Any]:
    """The ``keys`` of a :func:`serve` observation (and how the run went); unless ``times``, each
    caller's outcome and the ending's without when they came: that is another cell's behaviour."""
    picked = {key: observed.get(key) for key in ("run", *keys)}
    for key in ("callers", "end") if not times else ():
        if picked.get(key) is not None:
            picked[key] = [got for got, _ in observed[key]] if key == "callers" else observed[key][0]
    return picked


def observe_flushes(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """When each batch went to the handler, with what (virtual time)."""
    return _pick(serve(names, scenario), "calls")


def observe_results(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """What each caller got (not when)."""
    return _pick(serve(names, scenario), "callers", times=False)


def observe_failures(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """What each caller got (its result or its batch's error; cancelled, for one who gave up), how
    close() ended (not when), futures kept in ``_waiting``."""
    return _pick(serve(names, scenario), "callers", "end", "kept", times=False)


def observe_close(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """With close() at ``end_at``, then with abort() at ``abort_at`` (virtual times): the handler's
    calls and their ends, each caller's outcome and when, when abort() returned and whether close()
    (and the second close()) returned only once every caller who came before had its outcome, the
    submit() after them, tasks left running. Handler calls with no item are left out: delivering
    nothing is the batch loop's rule, graded by the flushes cell (and such a call delays close())."""
    keys = ("calls", "ends", "callers", "end", "again", "late", "left_running")
    observed = {ending: _pick(serve(names, scenario, ending), *keys) for ending in ("close", "abort")}
    closed = observed["close"]
    for key in ("calls", "ends"):
        if closed[key] is not None:
            closed[key] = [call for call in closed[key] if call[1]]
    if closed["callers"] is not None:
        came = [
            done
            for (_, done), (at, _) in zip(closed["callers"], scenario["arrivals"], strict=False)
            if at < scenario["end_at"]
        ]
        last = None if None in came else max(came, default=0.0)
        after = functools.partial(_after, last)
        if closed["end"] is not None:
            closed["end"] = [closed["end"][0], after(closed["end"][1])]
        if isinstance(closed["again"], float | int):
            closed["again"] = ["returned", after(closed["again"])]
    return observed


def _after(last: float | None, time: float | None) -> str:
    """Whether ``time`` (when close() returned) came once every caller had its outcome (at ``last``)."""
    if time is None:
        return "not returned"
    return "after every outcome" if last is not None and time >= last - 1e-9 else "before an outcome"


def observe_slow_handler(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """When each (full) batch went to the handler, with what, behind a slow handler (virtual time);
    calls up to close() only: what close() does is another cell's behaviour."""
    observed = _pick(serve(names, scenario), "calls")
    if observed["calls"] is not None:
        observed["calls"] = [call for call in observed["calls"] if call[0] < scenario["end_at"]]
    return observed


async def _close_again(batcher: Any) -> Any:
    """close() a second time, just after the first (as leaving ``async with`` does): when it returned."""
    await asyncio.sleep(0)
    try:
        await batcher.close()
    except (Exception, asyncio.CancelledError) as error:  # the probe's task is not being cancelled
        return ["raised", *_error(error)]
    return asyncio.get_running_loop().time()


async def _late_submit(batcher: Any) -> Any:
    """What ``submit()`` does after the ending returned, within 1 s."""
    late = asyncio.create_task(batcher.submit("late"))
    await asyncio.wait({late}, timeout=1.0)
    if not late.done():
        late.cancel()
        await asyncio.wait({late})
        return "waiting"
    return _task_end(late)


# ---------------------------------------------------------------- process_in_chunks


def draw_chunks(rng: random.Random, *, ordinary: bool = False) -> dict[str, Any]:
    """Items cut in chunks, some slow, one failing now and then. Unless ``ordinary``: no items now
    and then, repeated items, a chunk larger than the work. ``ordinary`` (as the visible check):
    distinct items, more than one chunk, a failing item always."""
    if ordinary:
        chunk_size = rng.randint(1, 5)
        items = _distinct_items(rng, rng.randint(chunk_size + 1, 24))
    else:
        items = _items(rng, 0 if rng.random() < 0.2 else rng.randint(1, 24))
        chunk_size = 30 if rng.random() < 0.1 else rng.randint(1, 5)
    early = items[: max(1, len(items) // 3)]  # a failure early leaves chunks that must not start
    scenario: dict[str, Any] = {
        "items": items,
        "chunk_size": chunk_size,
        "concurrency": rng.randint(1, 4),
        "slow": rng.sample(items, min(len(items), rng.choice([0, 1, 2, 3]))),
        "slow_time": round(TICK * rng.randint(11, 40), 2),
        "time": round(TICK * rng.randint(1, 10), 2),
        "failing": rng.choice(rng.choice([early, items])) if items and (ordinary or rng.random() < 0.8) else None,
    }
    if not ordinary and items and rng.random() < CANCELLED_SHARE:  # cancelled while calls run or chunks wait
        slow = set(scenario["slow"])
        times = [
            scenario["slow_time"] if slow & set(items[at : at + chunk_size]) else scenario["time"]
            for at in range(0, len(items), chunk_size)
        ]
        # No schedule (any chunk may go next) ends before the longest call, nor before the work
        # shared among the slots: cancelled before that, every correct run is still going.
        soonest = max(max(times), sum(times) / scenario["concurrency"])
        scenario["cancel_at"] = round(TICK * rng.randint(0, round(soonest / TICK) - 1) + OFF_GRID, 3)
    return scenario


def _chunk_work(scenario: dict[str, Any], failing: list[Any]) -> BatchWorkload:
    """The handler: a chunk takes ``slow_time`` s if it holds a ``slow`` item, else ``time`` s; a chunk
    holding a ``failing`` item raises."""
    slow = set(scenario["slow"])
    return BatchWorkload(lambda chunk: scenario["slow_time"] if slow & set(chunk) else scenario["time"], failing)


def _chunk_run(names: Mapping[str, Any], scenario: dict[str, Any], failing: list[Any]) -> tuple[Any, Any]:
    """process_in_chunks on the scenario's items, ``failing`` items making their chunk's call raise: its
    outcome (an error: the handler's failure in it, else its type) and the run."""
    work = _chunk_work(scenario, failing)

    async def main() -> Any:
        try:
            return {
                "returned": await names["process_in_chunks"](
                    list(scenario["items"]),
                    work,
                    chunk_size=scenario["chunk_size"],
                    concurrency=scenario["concurrency"],
                )
            }
        except Exception as error:
            emit(Kind.PROBE_RAISED)
            failure = find_item_failure(error)
            return {"raised": str(failure) if failure is not None else type(error).__name__}

    run = run_virtual(main, deadline=200.0, wall_limit=WALL)
    return (run.value if run.outcome == "returned" else outcome(run)), run


def observe_chunks(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """Virtual clock. Without failures: the results, the chunks the handler got (sorted: which goes
    next is free), the most calls at once, the first instant a slot stayed free while chunks
    waited, tasks left running. With ``failing``: what it raised (the handler's failure), calls
    started after the failure, calls still running when it raised, tasks left running."""
    got, run = _chunk_run(names, scenario, [])
    size = scenario["chunk_size"]
    chunks = len(range(0, len(scenario["items"]), size))
    observed: dict[str, Any] = {
        "result": got,
        "calls": sorted((list(items) for _, items in batch_handler_calls(run.events)), key=repr),
        "peak": peak_in_flight(run.events),
        "idle": idle_slots(run.events, chunks, scenario["concurrency"]),
        "left_running": len(run.leftover),
    }
    if scenario["failing"] is not None:
        got, run = _chunk_run(names, scenario, [scenario["failing"]])
        failed = [e.time for e in run.of_kind(Kind.WORK_END) if e["outcome"] == "failed"]
        before = list(itertools.takewhile(lambda e: e.kind != Kind.PROBE_RAISED, run.events))
        observed["failing"] = {
            "result": got,
            "started_after": sum(1 for e in run.of_kind(Kind.WORK_START) if failed and e.time > failed[0] + 1e-9),
            "running": sum(e.kind == Kind.WORK_START for e in before) - sum(e.kind == Kind.WORK_END for e in before),
            "left_running": len(run.leftover),
        }
    if scenario.get("cancel_at") is not None:
        observed["cancelled"] = _cancelled_chunks(names, scenario)
    return observed


def _cancelled_chunks(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """process_in_chunks without failures, its task cancelled at ``cancel_at`` (virtual time, off the
    grid of the calls' ends, before any schedule ends): how it ended, and how many tasks (calls) were
    left running."""
    work = _chunk_work(scenario, [])

    async def main() -> Any:
        task = asyncio.create_task(
            names["process_in_chunks"](
                list(scenario["items"]), work, chunk_size=scenario["chunk_size"], concurrency=scenario["concurrency"]
            )
        )
        await asyncio.wait({task}, timeout=scenario["cancel_at"])
        task.cancel()
        await asyncio.wait({task})
        await _settle()
        return _task_end(task)

    run = run_virtual(main, deadline=200.0, wall_limit=WALL)
    return {**outcome(run), "left_running": len(run.leftover)}


# A visible cell's probe draws inputs of the kind its check uses (still random); the hidden
# cell's draws every input the statement allows: the edge cases are the hidden cell's points.
PROBES = {
    "ch03-ex1-visible": Probe(draw_collect_ordinary, observe_collect),
    "ch03-ex1-hidden": Probe(draw_collect, observe_collect),
    "ch03-ex2-visible": Probe(functools.partial(draw_deliver, ordinary=True), observe_deliver),
    "ch03-ex2-hidden": Probe(draw_deliver, observe_deliver),
    "ch03-ex3-flushes": Probe(draw_flushes, observe_flushes),
    "ch03-ex3-results": Probe(draw_results, observe_results),
    "ch03-ex3-failures": Probe(draw_failures, observe_failures),
    "ch03-ex3-close": Probe(draw_close, observe_close),
    "ch03-ex3-slow-handler": Probe(draw_slow_handler, observe_slow_handler),
    "ch03-ex4-visible": Probe(functools.partial(draw_chunks, ordinary=True), observe_chunks),
    "ch03-ex4-hidden": Probe(draw_chunks, observe_chunks),
}
