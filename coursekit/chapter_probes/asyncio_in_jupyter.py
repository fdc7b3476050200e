"""Chapter 0 probes: countdown and fetch_all on random counts, delays and start times."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from typing import Any

from coursekit.probing import Probe, outcome
from coursekit.virtual_time import run_virtual


def _start(rng: random.Random) -> float:
    return rng.choice([0.0, round(rng.uniform(0, 50), 2)])


def draw_countdown(rng: random.Random) -> dict[str, Any]:
    return {"n": rng.randint(0, 7), "delay": round(rng.uniform(0.05, 4), 3), "start": _start(rng)}


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


def observe_fetch_all(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """What ``fetch_all(delays)`` returns when started at ``start``, when it ended, and tasks left over."""

    async def main() -> Any:
        await asyncio.sleep(scenario["start"])
        elapsed = await names["fetch_all"](list(scenario["delays"]))
        return {"elapsed": elapsed, "ended": asyncio.get_running_loop().time()}

    run = run_virtual(main, deadline=scenario["start"] + 60, wall_limit=2.0)
    return {**outcome(run), "left_running": len(run.leftover)}


COUNTDOWN = Probe(draw_countdown, observe_countdown)
FETCH_ALL = Probe(draw_fetch_all, observe_fetch_all)
PROBES = {
    "ch00-countdown-tests": COUNTDOWN,
    "ch00-countdown-hidden-tests": COUNTDOWN,
    "ch00-fetch-all-tests": FETCH_ALL,
    "ch00-fetch-all-hidden-tests": FETCH_ALL,
}
