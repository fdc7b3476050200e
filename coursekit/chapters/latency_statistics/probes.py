"""Chapter 9 probes: ``percentile`` on random values, ``LatencyRecorder`` against the exact
nearest-rank percentiles of random latencies, ``constant_rate``'s schedule on the virtual clock.

The plain functions run inside :func:`run_virtual` too, so that a busy loop is observed as
"blocked" instead of stopping the grading. Percentiles asked for are whole or dyadic
(``p * n / 100`` is then exact however it is computed). Where the statement allows more
than one answer (linear interpolation's rounding, a recorder's buckets), a judge compares
with the exact value, worked out from the scenario, within the statement's bound.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable, Mapping
from typing import Any

from coursekit.chapters.latency_statistics.checks import (
    IMPOSSIBLE_SETTINGS,
    LINEAR_TOLERANCE,
    PS,
    RECORDER_PS,
    ROUNDING,
    Backend,
    _recorder_values,
    exact_rank,
)
from coursekit.chapters.latency_statistics.given import METHODS, footprint, memory_budget
from coursekit.probing import DIGITS, Probe, outcome, shown
from coursekit.scenario import cancelled_at
from coursekit.virtual_time import run_virtual

SLACK = 10**-DIGITS  # an observation's floats are rounded to DIGITS decimals
UNKNOWN_METHODS = ("exclusive", "inclusive", "nearest", "nearest_rank", "Linear", "inverted_cdf", "")


def answer(func: Callable[..., Any], *args: Any) -> Any:
    """What ``func(*args)`` returns, or ``{"raised": name}`` (any ValueError is "ValueError")."""
    try:
        return func(*args)
    except ValueError:
        return {"raised": "ValueError"}
    except Exception as error:  # noqa: BLE001  (observed)
        return {"raised": type(error).__name__}


def unblocked(observe: Callable[[], Any]) -> Any:
    """``observe()`` (synchronous code) run where a busy loop is stopped after 2 s and observed as blocked."""

    async def main() -> Any:
        return observe()

    return outcome(run_virtual(main, deadline=1.0, wall_limit=2.0))


def _dyadic_p(rng: random.Random) -> float:
    return rng.randint(0, 800) / 8


# ------------------------------------------------------------------ exercise 1: percentile


def draw_values(rng: random.Random) -> dict[str, Any]:
    """Unsorted latencies (few distinct ones, sometimes), and the p to ask for: the checks' p, random
    ones, and a whole rank (p * n / 100 a whole number: document 000's index is one rank off there),
    where ``ceil(p / 100 * n)`` is one rank off too if there is one (the statement's p = 7, n = 100)."""
    rounds = [25, 50, 75, 100, 150]  # the sizes where p / 100 * n rounds across a whole number, for some p
    size = rng.choice([1, rng.randint(2, 30), rng.randint(31, 150), rng.choice(rounds), rng.choice(rounds)])
    scale = rng.choice([0.05, 40.0, 2500.0])
    if rng.random() < 0.2:
        choices = [round(rng.lognormvariate(math.log(scale), 1.0), 5) for _ in range(3)]
        values = [rng.choice(choices) for _ in range(size)]
    else:
        values = [round(rng.lognormvariate(math.log(scale), 0.9), 5) for _ in range(size)]
    whole = [p for p in range(1, 100) if p * size % 100 == 0]
    rounded = [p for p in whole if math.ceil(p / 100 * size) != p * size // 100]
    ps = [*PS, rng.randint(0, 100), _dyadic_p(rng), _dyadic_p(rng), *rng.sample(rounded or whole, min(1, len(whole)))]
    return {"values": values, "ps": ps}


def observe_percentiles(method: str) -> Callable[[Mapping[str, Any], dict[str, Any]], Any]:
    """``percentile(values, p, method)`` for each p of the scenario, on a fresh copy of the values."""

    def observe(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
        percentile = names["percentile"]
        values = scenario["values"]
        return unblocked(lambda: [answer(percentile, list(values), p, method) for p in scenario["ps"]])

    return observe


def judge_linear(scenario: dict[str, Any], observed: Any, expected: Any) -> str | None:
    """Each answer within the statement's bound, 1e-9 * max(|x|), of the reference's (and of rounding)."""
    bound = LINEAR_TOLERANCE * max(abs(x) for x in scenario["values"]) + 2 * SLACK
    got, want = _returned(observed), _returned(expected)
    if not isinstance(got, list) or not isinstance(want, list) or len(got) != len(want):
        return f"observed {shown(observed)}, the statement gives {shown(expected)}"
    for p, mine, theirs in zip(scenario["ps"], got, want, strict=True):
        close = _number(mine) and _number(theirs) and abs(mine - theirs) <= bound
        if not close and mine != theirs:
            return f"percentile(values, {p!r}, 'linear') is {shown(mine)}, the statement gives {shown(theirs)}"
    return None


def _returned(observation: Any) -> Any:
    return observation.get("returned") if isinstance(observation, dict) else None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def draw_edges(rng: random.Random) -> dict[str, Any]:
    """No values, p outside [0, 100], unknown methods, one value, and a list that must stay unsorted."""
    return {
        "p": _dyadic_p(rng),
        "outside": rng.choice([-1, -0.5, -100]) if rng.random() < 0.5 else rng.choice([100.5, 101, 150]),
        "method": rng.choice(UNKNOWN_METHODS),
        "one": round(rng.lognormvariate(math.log(0.1), 1.5), 5),
        "values": [round(rng.uniform(0.001, 2.0), 4) for _ in range(rng.randint(3, 9))],
    }


def observe_edges(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """What each method gives (or raises) for no values, p outside [0, 100], an unknown method, one value;
    and the caller's list after both methods ran on it."""
    percentile = names["percentile"]
    p, values = scenario["p"], scenario["values"]

    def observe() -> dict[str, Any]:
        given = list(values)
        for method in METHODS:  # what they answer is the other probes' business (linear's may round)
            answer(percentile, given, p, method)
        return {
            "empty": [answer(percentile, [], p, m) for m in METHODS],
            "outside": [answer(percentile, list(values), scenario["outside"], m) for m in METHODS],
            "unknown": answer(percentile, list(values), p, scenario["method"]),
            "one": [answer(percentile, [scenario["one"]], q, m) for m in METHODS for q in (0, p, 100)],
            "list_after": given,
        }

    return unblocked(observe)


# ------------------------------------------------------------------ exercise 2: LatencyRecorder


def recorded(scenario: dict[str, Any]) -> list[float]:
    """The latencies a scenario records: given, seeded around a median (the checks' generator, with a
    stall of 2% of them at the first or last positions), or spread over the whole range (log-uniform)."""
    if "values" in scenario:
        return list(scenario["values"])
    size, seed, lowest, highest = scenario["size"], scenario["seed"], scenario["lowest"], scenario["highest"]
    if scenario["stall"] != "spread":
        return _recorder_values(size, seed, scenario["stall"], lowest, highest)
    rng = random.Random(seed)
    low, high = math.log(lowest), math.log(highest)
    return [min(highest, max(lowest, math.exp(rng.uniform(low, high)))) for _ in range(size)]


def asked(scenario: dict[str, Any]) -> list[float]:
    """The p of each approximate answer an observation holds: percentile(p) for each p of the scenario,
    then the properties p50, p95, p99, then the summary's."""
    return [*scenario["ps"], 50, 95, 99, 50, 95, 99]


def _approximate(recorder: Any, scenario: dict[str, Any]) -> tuple[list[Any], Any]:
    """The recorder's answers for :func:`asked`, and its summary with the percentiles taken out."""
    summary = answer(recorder.summary)
    answers = [answer(recorder.percentile, p) for p in scenario["ps"]]
    answers += [answer(getattr, recorder, name) for name in ("p50", "p95", "p99")]
    if isinstance(summary, dict) and {"p50", "p95", "p99"} <= set(summary):
        summary = dict(summary)  # a copy: the recorder may hand out a dict of its own
        answers += [summary.pop(name) for name in ("p50", "p95", "p99")]
    return answers, summary


def _made(cls: Any, settings: dict[str, float]) -> str:
    """The string "made" once ``cls(**settings)`` returns (an instance is no observation)."""
    cls(**settings)
    return "made"


def _settings(scenario: dict[str, Any]) -> dict[str, float]:
    return {name: scenario[name] for name in ("relative_error", "lowest", "highest")}


def judge_recorder(scenario: dict[str, Any], observed: Any, expected: Any) -> str | None:
    """Everything but the approximate answers as the reference's; each approximate answer within
    ``relative_error`` of the exact nearest-rank percentile of every value recorded."""
    got, want = _returned(observed), _returned(expected)
    same_keys = isinstance(got, dict) and isinstance(want, dict) and set(got) == set(want)
    if not same_keys or len(got["approximate"]) != len(want["approximate"]):
        return f"observed {shown(observed)}, the statement gives {shown(expected)}"
    for key in sorted(set(want) - {"approximate"}):
        if got[key] != want[key]:
            return f"{key}: observed {shown(got[key])}, the statement gives {shown(want[key])}"
    ordered = sorted(recorded(scenario))
    error = scenario["relative_error"]
    for p, value in zip(asked(scenario), got["approximate"], strict=True):
        exact = ordered[exact_rank(p, len(ordered)) - 1]
        if not (_number(value) and abs(value - exact) <= error * exact * (1 + ROUNDING) + SLACK):
            return f"percentile {p!r} is {shown(value)}, not within {error:g} of the exact {exact!r}"
    return None


def draw_basics(rng: random.Random) -> dict[str, Any]:
    """A new recorder with random settings; values outside the range; then one value (sometimes the
    lowest or the highest accepted)."""
    highest = rng.choice([60.0, 100.0, 3600.0, round(rng.uniform(1, 1000), 2)])
    somewhere = [round(math.exp(rng.uniform(math.log(1e-3), math.log(highest))), 6) for _ in range(2)]
    value = rng.choice([1e-6, highest, *somewhere])
    return {
        "relative_error": rng.choice([0.05, 0.02, 0.01, 0.005, 0.001]),
        "lowest": 1e-6,
        "highest": highest,
        "refused": [-round(rng.uniform(0.001, 2), 3), 1e-6 / rng.choice([2, 10]), highest * rng.choice([1.5, 2, 10])],
        "bad_ps": [rng.choice([-1, -0.5, -50]), rng.choice([100.5, 101, 200])],
        "ps": [0, _dyadic_p(rng), 99, 100],
        "values": [value],
    }


def observe_basics(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """The given constructor (defaults, refused settings); an empty recorder (count, summary,
    percentile); each out-of-range value (raised? count after); then one value recorded: count,
    percentiles (approximate), p outside [0, 100], summary."""
    cls = names["LatencyRecorder"]

    def observe() -> dict[str, Any]:
        default = cls()
        recorder = cls(**_settings(scenario))
        found: dict[str, Any] = {
            "defaults": [getattr(default, name, None) for name in ("relative_error", "lowest", "highest")],
            "impossible": [answer(_made, cls, s) for s in IMPOSSIBLE_SETTINGS],
            "kept": [getattr(recorder, name, None) for name in ("relative_error", "lowest", "highest")],
            "empty": [getattr(recorder, "count", None), answer(recorder.summary), answer(getattr, recorder, "p50")],
            "refused": [[answer(recorder.record, v), recorder.count] for v in scenario["refused"]],
        }
        found["recorded"] = [answer(recorder.record, scenario["values"][0]), recorder.count]
        found["bad_ps"] = [answer(recorder.percentile, p) for p in scenario["bad_ps"]]
        found["approximate"], found["summary"] = _approximate(recorder, scenario)
        return found

    return unblocked(observe)


ROUNDED_SIZES = (25, 50, 75, 100, 150, 200, 300, 350, 600, 700)  # counts with a whole p where p / 100 * n rounds up


def _rounded_p(scenario: dict[str, Any]) -> list[int]:
    """A whole p where ``p * n / 100`` is a whole rank but ``p / 100 * n`` rounds above it (one rank off, the
    trap of exercise 1), if the count ``n`` has one: of those, the one where that next rank's value is
    farthest from the exact one (a recorder one rank off is then off by more than ``relative_error``)."""
    size = scenario["size"]
    rounded = [p for p in range(1, 100) if p * size % 100 == 0 and math.ceil(p / 100 * size) != p * size // 100]
    if not rounded:
        return []
    ordered = sorted(recorded(scenario))
    return [max(rounded, key=lambda p: ordered[p * size // 100] / ordered[p * size // 100 - 1])]


def draw_error_bound(rng: random.Random) -> dict[str, Any]:
    """Seeded latencies (1 to 2500, a stall of 2% of them first or last, sometimes) in a random range; the
    p asked for: the checks', a dyadic one, and, for a count that has one (a fifth of the draws), a whole
    p where ``p / 100 * n`` rounds one rank above ``p * n / 100``."""
    lowest, highest = rng.choice([(1e-6, 3600.0), (1e-6, 3600.0), (0.001, 60.0), (1e-4, 100.0)])
    scenario = {
        "relative_error": rng.choice([0.05, 0.02, 0.01, 0.005, 0.001]),
        "lowest": lowest,
        "highest": highest,
        "size": rng.choice(
            [1, rng.randint(2, 40), rng.randint(200, 800), rng.randint(1200, 2500), rng.choice(ROUNDED_SIZES)]
        ),
        "seed": rng.randrange(10**9),
        "stall": rng.choice(["none", "first", "last"]),
    }
    return {**scenario, "ps": [*RECORDER_PS, _dyadic_p(rng), *_rounded_p(scenario)]}


def observe_recorded(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """After recording the scenario's latencies: count, the approximate answers (:func:`asked`), the
    summary's other keys."""
    cls = names["LatencyRecorder"]

    def observe() -> dict[str, Any]:
        recorder = cls(**_settings(scenario))
        for value in recorded(scenario):
            recorder.record(value)
        approximate, summary = _approximate(recorder, scenario)
        return {"count": recorder.count, "approximate": approximate, "summary": summary}

    return unblocked(observe)


def draw_memory(rng: random.Random) -> dict[str, Any]:
    """Latencies spread over the whole range, more of them than a list of every value could hold within
    the budget (32 bytes a value); coarse settings keep the count of values small."""
    error = rng.choice([0.05, 0.1, 0.2])
    lowest, highest = rng.choice([(1e-4, 10.0), (1e-3, 60.0), (1e-5, 1.0), (0.01, 100.0)])
    budget = memory_budget(error, lowest, highest)
    return {
        "relative_error": error,
        "lowest": lowest,
        "highest": highest,
        "size": rng.randint(budget // 24, budget // 18),
        "seed": rng.randrange(10**9),
        "stall": "spread",
        "ps": [_dyadic_p(rng)],
    }


def memory_ps(scenario: dict[str, Any]) -> list[float]:
    """The p the memory probe asks for: the checks' 99, then the scenario's."""
    return [99, *scenario["ps"]]


def observe_memory(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """After recording the scenario's latencies: ``footprint(recorder)``, and ``percentile(p)`` for each
    p of :func:`memory_ps` (what a recorder of every value answers). The count, the summary and the
    properties are the basics cell's business, the exact bound the error-bound cell's."""
    cls = names["LatencyRecorder"]

    def observe() -> dict[str, Any]:
        recorder = cls(**_settings(scenario))
        for value in recorded(scenario):
            recorder.record(value)
        answers = [answer(recorder.percentile, p) for p in memory_ps(scenario)]
        return {"approximate": answers, "footprint": footprint(recorder)}

    return unblocked(observe)


def judge_memory(scenario: dict[str, Any], observed: Any, expected: Any) -> str | None:
    """The footprint within ``memory_budget``; each answer within one bucket of the statement's layout,
    a factor ``(1 + e) / (1 - e)``, of the exact nearest-rank percentile of every value recorded: the
    answer of a recorder that counts every value in buckets, whichever value of its bucket it reports
    (within ``relative_error`` is the error-bound cell's business); a recorder that forgets values, or
    answers a constant, is farther off."""
    got, want = _returned(observed), _returned(expected)
    if not isinstance(got, dict) or not isinstance(want, dict) or set(got) != set(want):
        return f"observed {shown(observed)}, the statement gives {shown(expected)}"
    if not isinstance(got["approximate"], list) or len(got["approximate"]) != len(want["approximate"]):
        return f"observed {shown(observed)}, the statement gives {shown(expected)}"
    error = scenario["relative_error"]
    bucket = (1 + error) / (1 - error) * (1 + ROUNDING)
    ordered = sorted(recorded(scenario))
    for p, value in zip(memory_ps(scenario), got["approximate"], strict=True):
        exact = ordered[exact_rank(p, len(ordered)) - 1]
        if not (_number(value) and exact / bucket - SLACK <= value <= exact * bucket + SLACK):
            return f"percentile {p!r} is {shown(value)}, not within a bucket of the exact {exact!r}"
    budget = memory_budget(error, scenario["lowest"], scenario["highest"])
    if not (_number(got["footprint"]) and got["footprint"] <= budget):
        return f"footprint(recorder) is {shown(got['footprint'])} bytes, over the budget of {budget}"
    return None


# ------------------------------------------------------------------ exercise 3: constant_rate


def _start(rng: random.Random) -> float:
    return rng.choice([0.0, rng.randint(1, 160) / 4])


def _durations(rng: random.Random, low: int, high: int) -> list[float]:
    """Service times, multiples of 1/64 s (exact in floating point, like every time of these scenarios)."""
    return [rng.randint(low, high) / 64 for _ in range(rng.randint(1, 4))]


def draw_schedule(rng: random.Random) -> dict[str, Any]:
    """No connection limit (connections = count), varied service times, no stall; in a fifth of the draws,
    the caller cancels it (``cancel_at``, seconds after ``start``) before its last answer is due, half-way
    between two 1/64 s ticks (every send and answer is on a tick)."""
    count = rng.choice([0, 1, *(rng.randint(2, 16) for _ in range(4))])
    rate = rng.choice([1, 2, 4, 8, 16])
    scenario: dict[str, Any] = {
        "start": _start(rng),
        "rate": rate,
        "count": count,
        "connections": max(1, count),
        "durations": _durations(rng, 4, 128),
        "stall": None,
    }
    if count and rng.random() < 0.2:
        last = (count - 1) / rate + max(scenario["durations"])  # the last answer is due then, at the latest
        scenario["cancel_at"] = (rng.randrange(round(last * 64)) + 0.5) / 64
    return scenario


def draw_intended(rng: random.Random) -> dict[str, Any]:
    """One to three connections, one service time for every request (as in the checks: answers then come
    in the order the requests were sent; latencies in request order when they do not are the schedule
    cell's business), within the interval (often half or a quarter of it, so that answers come back on
    the ticks); the service stalls from the intended time of a request in the first half, and comes back
    before the last two are due (so that requests are still arriving)."""
    rate = rng.choice([2, 4, 8, 16])
    aligned = [rng.choice([0.5, 0.25]) / rate]
    count = rng.randint(8, 24)
    start = _start(rng)
    index = rng.randrange(count // 2)
    quarters = max(1, 4 * (count - 2 - index) // rate)  # the longest stall, in quarters of a second
    stalled = start + index / rate
    return {
        "start": start,
        "rate": rate,
        "count": count,
        "connections": rng.randint(1, 3),
        "durations": rng.choice([aligned, aligned, [rng.randint(1, 64 // rate) / 64]]),
        "stall": [stalled, stalled + rng.randint(1, min(quarters, 12)) / 4],
    }


def draw_connections(rng: random.Random) -> dict[str, Any]:
    """One to five connections, service times longer than the interval; sometimes no request at all."""
    rate = rng.choice([4, 8, 16])
    return {
        "start": _start(rng),
        "rate": rate,
        "count": rng.choice([0, *(rng.randint(1, 30) for _ in range(4))]),
        "connections": rng.randint(1, 5),
        "durations": _durations(rng, 64 // rate, 96),
        "stall": None,
    }


def observe_constant_rate(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """On the virtual clock from ``start``, against the checks' :class:`Backend`: what ``constant_rate``
    returns and when, each request's send time, the order of the calls, requests in flight beyond
    ``connections``, and tasks left running. With ``cancel_at``, its caller's task is cancelled then:
    only whether it ended cancelled (or what it returned or raised instead; the tasks a cancelled run
    leaves, and what they send, the statement leaves open)."""
    stall = scenario["stall"]
    backend = Backend(tuple(scenario["durations"]), None if stall is None else (stall[0], stall[1]))
    count, rate, cancel_at = scenario["count"], scenario["rate"], scenario.get("cancel_at")

    async def run_it() -> Any:
        latencies = await names["constant_rate"](
            backend.call, rate=rate, count=count, connections=scenario["connections"]
        )
        return {"latencies": latencies, "ended": asyncio.get_running_loop().time()}

    async def main() -> Any:
        await asyncio.sleep(scenario["start"])
        if cancel_at is None:
            return await run_it()
        ended = await cancelled_at(run_it, asyncio.get_running_loop().time() + cancel_at)
        if ended.cancelled:
            return "cancelled"
        return {"raised": type(ended.error).__name__} if ended.error is not None else ended.value

    waits = 4 * count * (max(backend.durations) + 1 / rate) + (stall[1] - stall[0] if stall else 0)
    run = run_virtual(main, deadline=scenario["start"] + waits + 30, wall_limit=2.0)
    if cancel_at is not None:
        return outcome(run)
    return {
        **outcome(run),
        "sent": [backend.sends.get(i) for i in range(count)],
        "calls": backend.order,
        "over_limit": max(0, backend.peak - scenario["connections"]),
        "left_running": len(run.leftover),
    }


NEAREST_RANK = Probe(draw_values, observe_percentiles("nearest-rank"))
LINEAR = Probe(draw_values, observe_percentiles("linear"), judge=judge_linear)
EDGES = Probe(draw_edges, observe_edges)
BASICS = Probe(draw_basics, observe_basics, judge=judge_recorder)
ERROR_BOUND = Probe(draw_error_bound, observe_recorded, judge=judge_recorder)
MEMORY = Probe(draw_memory, observe_memory, judge=judge_memory)
PROBES = {
    "ch09-ex1-nearest-rank": NEAREST_RANK,
    "ch09-ex1-linear": LINEAR,
    "ch09-ex1-edges": EDGES,
    "ch09-ex2-basics": BASICS,
    "ch09-ex2-error-bound": ERROR_BOUND,
    "ch09-ex2-memory": MEMORY,
    "ch09-ex3-schedule": Probe(draw_schedule, observe_constant_rate),
    "ch09-ex3-intended": Probe(draw_intended, observe_constant_rate),
    "ch09-ex3-connections": Probe(draw_connections, observe_constant_rate),
}
