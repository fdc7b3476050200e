"""Chapter 0 probes: countdown and fetch_all on random counts, delays and start times.

The visible cells' probes draw the kind of call their checks make (a few ticks, a few delays,
the clock at 0); the hidden cells' probes draw from everything the statement allows (no tick,
one tick, no delays, a clock started later)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from typing import Any

from coursekit.probing import Probe, outcome
from coursekit.virtual_time import run_virtual


def _start(rng: random.Random) -> float:
    return rng.choice([0.0, round(rng.uniform(0, 50), 2)])


def draw_countdown(rng: random.Random) -> dict[str, Any]:
    return {"n": rng.randint(0, 7), "delay": round(rng.uniform(0.05, 4), 3), "start": _start(rng)}


def draw_ordinary_countdown(rng: random.Random) -> dict[str, Any]:
    return {"n": rng.randint(2, 7), "delay": round(rng.uniform(0.05, 4), 3), "start": 0.0}


def observe_countdown(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """The ticks ``countdown(n, delay)`` returns when started at ``start``, and when it ended."""

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


def observe_fetch_all(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """What ``fetch_all(delays)`` returns when started at ``start``, when it ended, and tasks left over."""

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
    "ch00-countdown-hidden-tests": Probe(draw_countdown, observe_countdown, edges=(ticks(0), ticks(1))),
    "ch00-fetch-all-tests": Probe(draw_ordinary_fetch_all, observe_fetch_all),
    "ch00-fetch-all-hidden-tests": Probe(draw_fetch_all, observe_fetch_all, edges=(delays(0), delays(1))),
}
