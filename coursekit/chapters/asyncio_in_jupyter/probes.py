"""Chapter 0 probes: countdown and fetch_all on random counts, delays and start times.

The visible cells' probes draw the kind of call their checks make (a few ticks, a few delays,
the clock at 0); the hidden cells' probes draw from everything the statement allows (no tick,
one tick, no delays, a clock started later) and, as an edge and in a third of their draws, a
call cancelled half-way through one of its waits (``cancel_at``, s after the call: never the
instant a sleep ends), where all the statement fixes is that the call ends cancelled."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from typing import Any

from coursekit.probing import Probe, outcome
from coursekit.virtual_time import run_virtual

CANCELLED_SHARE = 1 / 3  # of a hidden cell's draws: the caller cancels the call in one of its waits


def _start(rng: random.Random) -> float:
    return rng.choice([0.0, round(rng.uniform(0, 50), 2)])


def draw_countdown(rng: random.Random) -> dict[str, Any]:
    return {"n": rng.randint(0, 7), "delay": round(rng.uniform(0.05, 4), 3), "start": _start(rng)}


def draw_ordinary_countdown(rng: random.Random) -> dict[str, Any]:
    return {"n": rng.randint(2, 7), "delay": round(rng.uniform(0.05, 4), 3), "start": 0.0}


def draw_hidden_countdown(rng: random.Random) -> dict[str, Any]:
    """A countdown; in a share of the draws, a cancelled one (:func:`cancelled_countdown`)."""
    return cancelled_countdown(rng) if rng.random() < CANCELLED_SHARE else draw_countdown(rng)


def cancelled_countdown(rng: random.Random) -> dict[str, Any]:
    """A countdown of 2 ticks or more, cancelled in the middle of one of its sleeps (``cancel_at``: s
    after the call, half-way between two ticks)."""
    scenario = {**draw_countdown(rng), "n": rng.randint(2, 7)}
    return {**scenario, "cancel_at": round((rng.randrange(scenario["n"] - 1) + 0.5) * scenario["delay"], 4)}


def ended_as(task: asyncio.Task[Any]) -> Any:
    """How a finished task ended: cancelled, or what it returned or raised."""
    if task.cancelled():
        return "cancelled"
    error = task.exception()
    return {"returned": task.result()} if error is None else {"raised": type(error).__name__}


def observe_cancelled(names: Mapping[str, Any], scenario: dict[str, Any], call: Callable[[], Any]) -> Any:
    """``call()`` started at ``start``, its task cancelled ``cancel_at`` s later: how it ended (the
    statement fixes nothing else of a cancelled call: not when, nor the sleeps it leaves)."""

    async def main() -> Any:
        await asyncio.sleep(scenario["start"])
        task = asyncio.create_task(call())
        await asyncio.wait({task}, timeout=scenario["cancel_at"])
        task.cancel()
        await asyncio.wait({task})
        return {"cancelled_call": ended_as(task)}

    return outcome(run_virtual(main, deadline=scenario["start"] + 60, wall_limit=2.0))


def observe_countdown(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """The ticks ``countdown(n, delay)`` returns when started at ``start``, and when it ended (loop
    time); with ``cancel_at``, how it ended when cancelled then (:func:`observe_cancelled`)."""
    if "cancel_at" in scenario:
        return observe_cancelled(names, scenario, lambda: names["countdown"](scenario["n"], scenario["delay"]))

    async def main() -> Any:
        await asyncio.sleep(scenario["start"])
        ticks = await names["countdown"](scenario["n"], scenario["delay"])
        return {"ticks": ticks, "ended": asyncio.get_running_loop().time()}

    return outcome(run_virtual(main, deadline=scenario["start"] + 60, wall_limit=2.0))


def draw_fetch_all(rng: random.Random) -> dict[str, Any]:
    delays = [round(rng.uniform(0.01, 5), 2) for _ in range(rng.randint(0, 12))]
    return {"delays": delays, "start": _start(rng)}


def draw_ordinary_fetch_all(rng: random.Random) -> dict[str, Any]:
    """Increasing delays, as in the visible check's ``fetch_all([1, 2, 3])``."""
    return {"delays": sorted(round(rng.uniform(0.01, 5), 2) for _ in range(rng.randint(2, 8))), "start": 0.0}


def draw_hidden_fetch_all(rng: random.Random) -> dict[str, Any]:
    """A fetch_all; in a share of the draws, a cancelled one (:func:`cancelled_fetch_all`)."""
    return cancelled_fetch_all(rng) if rng.random() < CANCELLED_SHARE else draw_fetch_all(rng)


def cancelled_fetch_all(rng: random.Random) -> dict[str, Any]:
    """A fetch_all on one delay or more, cancelled while sleeps still run (``cancel_at``: s after the
    call, half-way between two instants at which sleeps end)."""
    scenario = delays(rng.randint(1, 12))(rng)
    ends = sorted({0.0, *scenario["delays"]})
    index = rng.randrange(len(ends) - 1)
    return {**scenario, "cancel_at": round((ends[index] + ends[index + 1]) / 2, 4)}


def observe_fetch_all(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """What ``fetch_all(delays)`` returns when started at ``start``, when it ended (loop time), and
    tasks left over; with ``cancel_at``, how it ended when cancelled then (:func:`observe_cancelled`)."""
    if "cancel_at" in scenario:
        return observe_cancelled(names, scenario, lambda: names["fetch_all"](list(scenario["delays"])))

    async def main() -> Any:
        await asyncio.sleep(scenario["start"])
        elapsed = await names["fetch_all"](list(scenario["delays"]))
        return {"elapsed": elapsed, "ended": asyncio.get_running_loop().time()}

    run = run_virtual(main, deadline=scenario["start"] + 60, wall_limit=2.0)
    return {**outcome(run), "left_running": len(run.leftover)}


def ticks(n: int) -> Callable[[random.Random], dict[str, Any]]:
    """Draws of a countdown of exactly ``n`` ticks."""
    return lambda rng: {**draw_countdown(rng), "n": n}


def delays(count: int) -> Callable[[random.Random], dict[str, Any]]:
    """Draws of a fetch_all of exactly ``count`` delays."""
    return lambda rng: {"delays": [round(rng.uniform(0.01, 5), 2) for _ in range(count)], "start": _start(rng)}


PROBES = {
    "ch00-countdown-tests": Probe(draw_ordinary_countdown, observe_countdown),
    "ch00-countdown-hidden-tests": Probe(
        draw_hidden_countdown, observe_countdown, edges=(ticks(0), ticks(1), cancelled_countdown)
    ),
    "ch00-fetch-all-tests": Probe(draw_ordinary_fetch_all, observe_fetch_all),
    "ch00-fetch-all-hidden-tests": Probe(
        draw_hidden_fetch_all, observe_fetch_all, edges=(delays(0), delays(1), cancelled_fetch_all)
    ),
}
