"""Chapter 9 checks: ``percentile``, the ``LatencyRecorder`` class, the ``constant_rate`` load generator.

The semantics are those of the chapter's statements and ``solutions/latency_statistics.py``.

``percentile`` is compared with an exact oracle (fractions): nearest-rank exactly (its
answer is one of the values), linear within the statement's bound, ``1e-9 * max(|x|)``.
Values come seeded and unsorted; hidden scenarios vary the size (1, 100), repeat values,
and ask for p = 0 and p = 100.

``LatencyRecorder`` is checked one behaviour per check (empty and edge cases, the
relative-error bound against the exact nearest-rank percentile, the memory bound with
:func:`coursekit.chapters.latency_statistics.given.footprint`), so each can earn its own points.

``constant_rate`` runs on the virtual clock, starting at ``start`` (not 0), against a
:class:`Backend` stand-in that records when each request was sent and answered, with
service times that vary (so completion order is not request order) and, when asked, a
stall: a request arriving during it is held until it ends. Every time in a scenario is a
multiple of 1/64 s, exact in floating point, so send times and latencies compare exactly.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import inspect
import math
import random
import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Protocol, TypeVar

from coursekit.chapters.latency_statistics.given import footprint, memory_budget
from coursekit.checks import Chain, describe_error, describe_values, learner_facing
from coursekit.events import Kind, emit
from coursekit.scenario import (
    UNCANCELLED,
    Outcome,
    cancellation_sweep,
    cancelled_at,
    ends_cancelled_at_each_wait,
    require_class,
    run_scenario,
    sweep_instants,
)
from coursekit.virtual_time import VirtualRun, run_virtual

R = TypeVar("R")

PS = (0, 1, 7, 10, 12.5, 25, 50, 90, 95, 99, 99.5, 100)
RECORDER_PS = (0, 0.5, 1, 10, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.75, 100)  # dyadic: p * n / 100 is exact
LINEAR_TOLERANCE = 1e-9  # the statement's bound, times max(|x|)
ROUNDING = 1e-9  # the recorder's bound is relative_error * exact * (1 + ROUNDING)

# ------------------------------------------------------------------ the learner's subjects

Percentile = Callable[[list[float], float, str], object]  # percentile(values, p, method="nearest-rank")
ConstantRate = Callable[..., Awaitable[object]]  # constant_rate(call, *, rate, count, connections) -> latencies


class Recorder(Protocol):
    """What the statement's LatencyRecorder offers: the given constructor's settings and count, record,
    percentile, the p50/p95/p99 properties and summary."""

    relative_error: float
    lowest: float
    highest: float
    count: int

    def record(self, seconds: float) -> None: ...

    def percentile(self, p: float) -> float: ...

    @property
    def p50(self) -> float: ...

    @property
    def p95(self) -> float: ...

    @property
    def p99(self) -> float: ...

    def summary(self) -> object: ...


RecorderClass = Callable[..., Recorder]  # LatencyRecorder(relative_error=0.01, lowest=1e-6, highest=3600.0)


# ------------------------------------------------------------------ oracles


def exact_rank(p: float, n: int) -> int:
    """Nearest-rank's rank (1-based), exactly: ceil(p * n / 100), at least 1."""
    return max(1, math.ceil(Fraction(p) * n / 100))


def exact_linear(ordered: list[float], p: float) -> float:
    """Hyndman & Fan type 7, exactly (fractions), rounded once to a float."""
    n = len(ordered)
    h = Fraction(n - 1) * Fraction(p) / 100
    below = math.floor(h)
    above = min(below + 1, n - 1)
    low, high = Fraction(ordered[below]), Fraction(ordered[above])
    return float(low + (h - below) * (high - low))


def scenario_values(size: int, seed: int, repeated: bool) -> list[float]:
    """``size`` latencies in seconds, seeded, in arrival order (unsorted); ``repeated``: few distinct values."""
    rng = random.Random(f"percentile|{size}|{seed}|{repeated}")
    if repeated:
        return [rng.choice((0.012, 0.05, 0.05, 0.2)) for _ in range(size)]
    return [round(rng.lognormvariate(math.log(0.05), 0.9), 5) for _ in range(size)]


# ------------------------------------------------------------------ exercise 1: percentile


def _call_percentile(chain: Chain, percentile: Percentile, values: list[float], p: float, method: str) -> object:
    given = list(values)

    def hint(error: Exception) -> str:
        if isinstance(error, ValueError) and p in (0, 100):
            return P_EDGE_HINT.format(p=p)
        return f"try percentile({describe_values(values, 4)[:-1]} ...], {p!r}, {method!r}) in a cell of its own" + (
            "; at p = 100, h = n - 1: there is no value above the last one" if p == 100 else ""
        )

    return _returns(chain, f"percentile(values, {p!r}, {method!r})", lambda: percentile(given, p, method), hint)


def percentile_is_a_plain_function(chain: Chain, percentile: Percentile) -> None:
    chain.require(
        callable(percentile) and not inspect.iscoroutinefunction(percentile),
        "percentile is a plain function",
        observed=f"percentile is {percentile!r}"
        + (" (an async function)" if inspect.iscoroutinefunction(percentile) else ""),
        hint="run the cell that defines `def percentile(values, p, method=...)` (no `async`: it does not wait)",
    )


def _nearest_rank_hint(ordered: list[float], p: float, got: object) -> str:
    n = len(ordered)
    rank = exact_rank(p, n)
    if got not in ordered:
        return "nearest-rank never interpolates: its answer is one of the values, the one of rank ceil(p * n / 100)"
    ranks = [i + 1 for i, value in enumerate(ordered) if value == got]
    if p == 0 and got == ordered[-1] and ordered[0] != ordered[-1]:
        return "at p = 0 the rank ceil(0) = 0 is index -1, the largest value: the rank is at least 1"
    if math.ceil(p / 100 * n) in ranks and math.ceil(p / 100 * n) != rank:
        return (
            f"p / 100 * n rounds: {p!r} / 100 * {n} is {p / 100 * n!r}, whose ceiling is one rank too high; "
            "compute p * n / 100 (the product first, then one division)"
        )
    if min(int(n * p / 100), n - 1) + 1 in ranks:
        return (
            "int(n * p / 100) as a 0-based index (document 000's _percentile) is one rank too high whenever "
            "p * n / 100 is a whole number: the 0-based index is ceil(p * n / 100) - 1"
        )
    if round(p * n / 100) in ranks or max(1, round(p * n / 100)) in ranks:
        return "the rank is the ceiling of p * n / 100 (math.ceil), not rounded to the nearest"
    return "sort the values (sorted(values)), take rank r = max(1, ceil(p * n / 100)) and return sorted_values[r - 1]"


@learner_facing
def check_percentile_nearest_rank(
    percentile: Percentile, *, size: int = 10, seed: int = 1, repeated: bool = False
) -> None:
    """``size`` seeded values, unsorted (``repeated``: only a few distinct ones); for each p of 0, 1, 7, 10,
    12.5, 25, 50, 90, 95, 99, 99.5 and 100, ``percentile(values, p, "nearest-rank")`` is exactly the value of
    rank ceil(p * n / 100) (rank 1 for p = 0) of the sorted values."""
    chain = Chain("percentile")
    percentile_is_a_plain_function(chain, percentile)
    values = scenario_values(size, seed, repeated)
    ordered = sorted(values)
    for p in PS:
        got = _call_percentile(chain, percentile, values, p, "nearest-rank")
        rank = exact_rank(p, size)
        chain.require(
            got == ordered[rank - 1],
            f"nearest-rank, p={p!r}: the value of rank ceil({p!r} * {size} / 100) = {rank} of the sorted values",
            observed=(
                f"returned {got!r}; the sorted values of ranks "
                f"{max(1, rank - 1)} to {min(size, rank + 1)} are {ordered[max(0, rank - 2) : rank + 1]!r}"
            ),
            hint=_nearest_rank_hint(ordered, p, got),
        )


def _linear_hint(ordered: list[float], p: float, got: object) -> str:
    n = len(ordered)
    if n >= 2 and p == int(p) and 1 <= p <= 99 and got == statistics.quantiles(ordered, n=100)[int(p) - 1]:
        return (
            "that is statistics.quantiles' default, method='exclusive' (Hyndman & Fan type 6, h = (n + 1) * p "
            "/ 100); 'linear' is type 7: h = (n - 1) * p / 100, or statistics.quantiles(..., method='inclusive')"
        )
    if isinstance(got, int | float) and got == ordered[exact_rank(p, n) - 1]:
        return "that is the nearest-rank value: with method='linear', interpolate (h = (n - 1) * p / 100)"
    h6 = (n + 1) * p / 100 - 1  # type 6, statistics.quantiles' default 'exclusive', 0-based
    if 0 <= h6 <= n - 1 and isinstance(got, int | float):
        below = math.floor(h6)
        above = min(below + 1, n - 1)
        if math.isclose(got, ordered[below] + (h6 - below) * (ordered[above] - ordered[below])):
            return (
                "that is Hyndman & Fan's type 6 (h = (n + 1) * p / 100, statistics.quantiles' default "
                "method='exclusive'); 'linear' is type 7: h = (n - 1) * p / 100"
            )
    hn = n * p / 100
    if hn <= n - 1 and isinstance(got, int | float):
        below = math.floor(hn)
        above = min(below + 1, n - 1)
        if math.isclose(got, ordered[below] + (hn - below) * (ordered[above] - ordered[below])):
            return "h is (n - 1) * p / 100 (0-based positions run from 0 to n - 1), not n * p / 100"
    return (
        "sort the values; h = (n - 1) * p / 100; return x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - "
        "x[floor(h)]), with x[floor(h) + 1] taken as the last value at p = 100"
    )


@learner_facing
def check_percentile_linear(percentile: Percentile, *, size: int = 10, seed: int = 1, repeated: bool = False) -> None:
    """The same values and p as the nearest-rank check; ``percentile(values, p, "linear")`` is within
    1e-9 * max(|x|) of Hyndman & Fan's type 7, computed exactly."""
    chain = Chain("percentile")
    percentile_is_a_plain_function(chain, percentile)
    values = scenario_values(size, seed, repeated)
    ordered = sorted(values)
    bound = LINEAR_TOLERANCE * max(abs(x) for x in values)
    for p in PS:
        got = _call_percentile(chain, percentile, values, p, "linear")
        exact = exact_linear(ordered, p)
        h = Fraction(size - 1) * Fraction(p) / 100
        chain.require(
            isinstance(got, int | float) and abs(got - exact) <= bound,
            f"linear, p={p!r}: h = ({size} - 1) * {p!r} / 100 = {float(h):g}, "
            f"interpolated between the sorted values {ordered[math.floor(h)]!r} and "
            f"{ordered[min(math.floor(h) + 1, size - 1)]!r}: {exact!r} (within {bound:.3g})",
            observed=f"returned {got!r}",
            hint=_linear_hint(ordered, p, got),
        )


def _raised(call: Callable[..., object], *args: object) -> tuple[bool, str]:
    """(did ``call(*args)`` raise ValueError?, what happened)."""
    try:
        value = call(*args)
    except ValueError as error:
        return True, f"raised {describe_error(error)}"
    except Exception as error:  # noqa: BLE001  (reported)
        return False, f"raised {describe_error(error)}"
    return False, f"returned {value!r}"


@learner_facing
def check_percentile_edges(percentile: Percentile, *, value: float = 0.25) -> None:
    """No values, p outside [0, 100] and an unknown method raise ValueError, for both methods; one value
    ``value`` is every percentile; the caller's list is not changed (not sorted in place)."""
    chain = Chain("percentile")
    percentile_is_a_plain_function(chain, percentile)
    for method in ("nearest-rank", "linear"):
        raised, what = _raised(percentile, [], 50, method)
        chain.require(
            raised,
            f"percentile([], 50, {method!r}) raises ValueError: a percentile of no values does not exist",
            observed=what,
            hint="document 000's _percentile returns 0 for no values: a latency nobody measured, reported as "
            "0 s. Raise ValueError (statistics.StatisticsError is one) before dividing or indexing"
            if what.startswith("returned")
            else "check `if not values:` first and raise ValueError, before dividing or indexing",
        )
    for p in (-1, 100.5):
        raised, what = _raised(percentile, [0.1, 0.2], p, "nearest-rank")
        chain.require(
            raised,
            f"percentile([0.1, 0.2], {p!r}, 'nearest-rank') raises ValueError: p is outside [0, 100]",
            observed=what,
            hint="check 0 <= p <= 100 and raise ValueError otherwise",
        )
    for method in ("exclusive", "nearest"):
        raised, what = _raised(percentile, [0.1, 0.2], 50, method)
        chain.require(
            raised,
            f"percentile([0.1, 0.2], 50, {method!r}) raises ValueError: the method is unknown",
            observed=what,
            hint="accept exactly 'nearest-rank' and 'linear'; any other name is a ValueError "
            "(a percentile whose method nobody can name is document 000's flaw)",
        )
    for method in ("nearest-rank", "linear"):
        for p in (0, 50, 100):
            got = _call_percentile(chain, percentile, [value], p, method)
            chain.require(
                got == value,
                f"one value: percentile([{value!r}], {p}, {method!r}) is {value!r}",
                observed=f"returned {got!r}",
                hint="with one value, h = 0 and rank 1: every percentile is that value",
            )
    values = [0.3, 0.1, 0.2, 0.5, 0.4]
    given = list(values)
    chain.require_returns("percentile(values, 50, 'linear')", lambda: percentile(given, 50, "linear"), hint="")
    chain.require(
        given == values,
        "the caller's values are not changed",
        observed=f"after percentile({values!r}, 50, 'linear') the list is {given!r}",
        hint="sort a copy (sorted(values)), not the caller's list (values.sort())",
    )


# ------------------------------------------------------------------ exercise 2: LatencyRecorder


def _new_recorder(chain: Chain, recorder_class: RecorderClass, **settings: float) -> Recorder:
    """``recorder_class(**settings)``; its failure is "LatencyRecorder(...) runs without raising" (or "is
    implemented"), not the kit's make's "can be made"."""
    require_class(chain, recorder_class, "LatencyRecorder")
    shown = ", ".join(f"{key}={value!r}" for key, value in settings.items())
    return chain.require_returns(
        f"LatencyRecorder({shown})",
        lambda: recorder_class(**settings),
        hint="keep the given constructor and its parameters",
    )


GIVEN_DEFAULTS = (0.01, 1e-6, 3600.0)
IMPOSSIBLE_SETTINGS: tuple[dict[str, float], ...] = (
    {"relative_error": 0.0},
    {"relative_error": 1.0},
    {"lowest": 0.0},
    {"lowest": 5.0, "highest": 5.0},
)


def keeps_the_given_constructor(chain: Chain, recorder_class: RecorderClass) -> None:
    """The given constructor is kept: its defaults, and ValueError for settings that cannot work."""
    default = _new_recorder(chain, recorder_class)
    kept = tuple(getattr(default, name, None) for name in ("relative_error", "lowest", "highest"))
    chain.require(
        kept == GIVEN_DEFAULTS,
        "LatencyRecorder() has the given defaults: relative_error=0.01, lowest=1e-06, highest=3600.0",
        observed=f"relative_error, lowest, highest are {kept!r}",
        hint="keep the given constructor, its parameters and their defaults; add only your own state",
        generic=True,
    )
    for settings in IMPOSSIBLE_SETTINGS:
        shown = ", ".join(f"{key}={value!r}" for key, value in settings.items())
        raised, what = _raised(functools.partial(recorder_class, **settings))
        chain.require(
            raised,
            f"LatencyRecorder({shown}) raises ValueError: those settings cannot work",
            observed=what,
            hint="keep the given constructor's checks (0 < relative_error < 1, 0 < lowest < highest)",
        )


def _returns(chain: Chain, what: str, call: Callable[[], R], hint: Callable[[Exception], str]) -> R:
    """``chain.require_returns``, with the hint chosen from the error raised."""
    try:
        return call()
    except NotImplementedError:
        chain.fail_unimplemented(what)
    except Exception as error:  # noqa: BLE001  (reported)
        chain.fail(f"{what} runs without raising", observed=f"raised {describe_error(error)}", hint=hint(error))


P_EDGE_HINT = "p = {p} is inside [0, 100]: raise ValueError only for p < 0 or p > 100 (0 <= p <= 100, not <)"
RANK_WALK_HINT = (
    "walk the buckets in increasing order until the running count reaches the rank (seen >= rank, not >): "
    "at p = 100 the rank is count, reached at the last bucket"
)


def _recorder_percentile_hint(p: float) -> Callable[[Exception], str]:
    def hint(error: Exception) -> str:
        if isinstance(error, ValueError) and p in (0, 100):
            return P_EDGE_HINT.format(p=p)
        return RANK_WALK_HINT

    return hint


def _within(got: object, exact: float, error: float) -> bool:
    return isinstance(got, int | float) and abs(got - exact) <= error * exact * (1 + ROUNDING)


def _recorder_values(size: int, seed: int, stall: str, lowest: float, highest: float) -> list[float]:
    """Seeded latencies within [lowest, highest], in arrival order; ``stall`` puts 2% of them, 50 to 80
    times the median, at the ``"first"`` or ``"last"`` positions; values repeat (rounded to 10 µs)."""
    rng = random.Random(f"recorder|{size}|{seed}|{stall}")
    median = math.sqrt(lowest * highest) if highest / lowest < 1e4 else 0.05

    def draw(scale: float, sigma: float) -> float:
        while True:
            value = round(rng.lognormvariate(math.log(scale), sigma), 5)
            if lowest <= value <= highest:
                return value

    values = [draw(median, 0.8) for _ in range(size)]
    stalled = [draw(median * 65, 0.1) for _ in range(max(1, size // 50))]
    if stall == "first":
        values[: len(stalled)] = stalled
    elif stall == "last":
        values[-len(stalled) :] = stalled
    return values


def _record_all(chain: Chain, recorder: Recorder, values: list[float]) -> None:
    def record_every_value() -> None:
        for value in values:
            recorder.record(value)

    chain.require_returns(
        f"recording {len(values)} values",
        record_every_value,
        hint="record(seconds) counts one value in its bucket; it raises only outside [lowest, highest]",
    )


EMPTY_SUMMARY = {"count": 0, "p50": None, "p95": None, "p99": None}


@learner_facing
def check_recorder_basics(
    recorder_class: RecorderClass, *, relative_error: float = 0.01, value: float = 0.25, highest: float = 3600.0
) -> None:
    """A new recorder: count 0, ``summary()`` is ``{"count": 0, "p50": None, "p95": None, "p99": None}``,
    ``percentile(50)`` raises ValueError. Values below ``lowest``, above ``highest`` or negative raise
    ValueError and are not counted; so does p outside [0, 100]. After ``record(value)``: count 1, and every
    percentile and the summary's are within ``relative_error`` of ``value``."""
    chain = Chain("LatencyRecorder")
    keeps_the_given_constructor(chain, recorder_class)
    recorder = _new_recorder(chain, recorder_class, relative_error=relative_error, highest=highest)
    keeps_its_settings(chain, recorder, relative_error, highest)
    a_new_recorder_is_empty(chain, recorder)
    refuses_values_outside_its_range(chain, recorder, highest)
    _returns(
        chain,
        f"record({value!r})",
        lambda: recorder.record(value),
        lambda error: (
            "lowest and highest themselves are in the range: refuse only seconds < lowest or seconds > "
            "highest (lowest <= seconds <= highest, not <)"
            if isinstance(error, ValueError)
            else ""
        ),
    )
    one_value_is_every_percentile(chain, recorder, value, relative_error)
    summary_of_one_value(chain, recorder, value, relative_error)


def keeps_its_settings(chain: Chain, recorder: Recorder, relative_error: float, highest: float) -> None:
    kept = tuple(getattr(recorder, name, None) for name in ("relative_error", "lowest", "highest"))
    chain.require(
        kept == (relative_error, 1e-6, highest),
        f"LatencyRecorder(relative_error={relative_error!r}, highest={highest!r}) keeps its settings as "
        "relative_error, lowest, highest",
        observed=f"they are {kept!r}",
        hint="keep the given constructor: it sets self.relative_error, self.lowest and self.highest",
    )


def a_new_recorder_is_empty(chain: Chain, recorder: Recorder) -> None:
    """Count 0, a summary of None percentiles, and no percentile."""
    chain.require(
        getattr(recorder, "count", None) == 0,
        "a new recorder's count is 0",
        observed=f"count is {getattr(recorder, 'count', 'missing')!r}",
        hint="keep the given `self.count = 0` in the constructor",
    )
    summary = chain.require_returns(
        "summary() of an empty recorder",
        recorder.summary,
        hint="document 000's summary() divides by len(...) == 0: with no values, return the counts and None, "
        "never compute an average or a percentile of nothing",
    )
    chain.require(
        summary == EMPTY_SUMMARY,
        f"summary() of an empty recorder is {EMPTY_SUMMARY!r}: no invented numbers",
        observed=f"it returned {summary!r}",
        hint="with no values the percentiles are None (unknown), not 0 (a latency nobody measured)",
    )
    raised, what = _raised(recorder.percentile, 50)
    chain.require(
        raised,
        "percentile(50) of an empty recorder raises ValueError",
        observed=what,
        hint="a percentile of no values does not exist: raise ValueError when count is 0",
    )


def refuses_values_outside_its_range(chain: Chain, recorder: Recorder, highest: float) -> None:
    lowest = recorder.lowest
    for bad in (-0.5, lowest / 2, highest * 2):
        raised, what = _raised(recorder.record, bad)
        chain.require(
            raised and recorder.count == 0,
            f"record({bad!r}) raises ValueError and counts nothing: outside [{lowest!r}, {highest!r}]",
            observed=f"it {what}; count is then {recorder.count!r}",
            hint="check lowest <= seconds <= highest first, and raise ValueError before counting",
        )


def one_value_is_every_percentile(chain: Chain, recorder: Recorder, value: float, relative_error: float) -> None:
    """After record(value): count 1, every percentile within relative_error of value, p outside [0, 100] refused."""
    chain.require(
        recorder.count == 1,
        f"after record({value!r}), count is 1",
        observed=f"count is {recorder.count!r}",
        hint="add 1 to self.count in record()",
    )
    for p in (0, 50, 99, 100):
        got = _returns(
            chain, f"percentile({p})", functools.partial(recorder.percentile, p), _recorder_percentile_hint(p)
        )
        chain.require(
            _within(got, value, relative_error),
            f"one value {value!r}: percentile({p}) is within {relative_error:g} (relative) of it",
            observed=f"returned {got!r}",
            hint="report a bucket by a value within relative_error of every value in it (for buckets "
            "(g**(k-1), g**k] with g = (1 + e) / (1 - e): 2 * g**k / (g + 1)), not by its edge",
        )
    for p in (-1, 101):
        raised, what = _raised(recorder.percentile, p)
        chain.require(
            raised,
            f"percentile({p}) raises ValueError: p is outside [0, 100]",
            observed=what,
            hint="check 0 <= p <= 100",
        )


def summary_of_one_value(chain: Chain, recorder: Recorder, value: float, relative_error: float) -> None:
    summary = chain.require_returns("summary()", recorder.summary, hint="")
    chain.require(
        isinstance(summary, dict)
        and set(summary) == set(EMPTY_SUMMARY)
        and summary["count"] == 1
        and all(_within(summary[key], value, relative_error) for key in ("p50", "p95", "p99")),
        f"summary() after one value is {{'count': 1, 'p50', 'p95', 'p99'}}, each within {relative_error:g} of it",
        observed=f"it returned {summary!r}",
        hint="return {'count': self.count, 'p50': self.p50, 'p95': self.p95, 'p99': self.p99}",
    )


@learner_facing
def check_recorder_error_bound(
    recorder_class: RecorderClass,
    *,
    relative_error: float = 0.01,
    size: int = 2000,
    seed: int = 3,
    stall: str = "none",
    lowest: float = 1e-6,
    highest: float = 3600.0,
    ps: tuple[float, ...] = RECORDER_PS,
) -> None:
    """``size`` seeded latencies (unsorted, some repeated; ``stall``: 2% of them 65 times the median, at the
    first or last positions) are recorded; count is ``size``; for each p of ``ps`` (by default 0, 0.5, 1, 10,
    25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.75, 100), ``percentile(p)`` (and p50, p95, p99 and the summary's)
    is within ``relative_error`` of the exact nearest-rank percentile of every value recorded."""
    chain = Chain("LatencyRecorder")
    recorder = _new_recorder(chain, recorder_class, relative_error=relative_error, lowest=lowest, highest=highest)
    values = _recorder_values(size, seed, stall, lowest, highest)
    ordered = sorted(values)
    _record_all(chain, recorder, values)
    chain.require(
        recorder.count == size,
        f"after {size} values, count is {size}",
        observed=f"count is {recorder.count!r}",
        hint="add 1 to self.count for every value recorded",
    )
    each_percentile_is_within_the_bound(chain, recorder, ordered, ps, relative_error)
    the_properties_and_the_summary_are_within_the_bound(chain, recorder, ordered, relative_error)


def each_percentile_is_within_the_bound(
    chain: Chain, recorder: Recorder, ordered: list[float], ps: tuple[float, ...], relative_error: float
) -> None:
    """``percentile(p)``, for each p of ``ps``, is within ``relative_error`` of the exact nearest-rank value."""
    size = len(ordered)
    for p in ps:
        got = _returns(
            chain, f"percentile({p})", functools.partial(recorder.percentile, p), _recorder_percentile_hint(p)
        )
        exact = ordered[exact_rank(p, size) - 1]
        rounded = ordered[max(1, math.ceil(p / 100 * size)) - 1]  # the rank of p / 100 * count, rounded first
        chain.require(
            _within(got, exact, relative_error),
            f"percentile({p}) is within {relative_error:g} (relative) of the exact nearest-rank value {exact!r}",
            observed=(
                f"returned {got!r}, off by "
                + (f"{abs(got - exact) / exact:.3%}" if isinstance(got, int | float) else "a non-number")
            ),
            hint=f"p / 100 * count rounds: {p!r} / 100 * {size} is {p / 100 * size!r}, whose ceiling is one rank "
            "too high; compute the rank as ceil(p * count / 100) (the product first, then one division)"
            if rounded != exact and _within(got, rounded, relative_error)
            else _bound_hint(got, exact, relative_error, ordered),
        )


def the_properties_and_the_summary_are_within_the_bound(
    chain: Chain, recorder: Recorder, ordered: list[float], relative_error: float
) -> None:
    """p50, p95, p99 and ``summary()`` agree with the exact values (and the count)."""
    size = len(ordered)
    for name in ("p50", "p95", "p99"):
        got = chain.require_returns(name, functools.partial(getattr, recorder, name), hint="keep the given properties")
        exact = ordered[exact_rank(int(name[1:]), size) - 1]
        chain.require(
            _within(got, exact, relative_error),
            f"{name} is within {relative_error:g} of {exact!r}",
            observed=f"{name} is {got!r}",
            hint="keep the given properties: they call self.percentile",
        )
    summary = chain.require_returns("summary()", recorder.summary, hint="")
    chain.require(
        isinstance(summary, dict)
        and summary.get("count") == size
        and all(_within(summary.get(f"p{q}"), ordered[exact_rank(q, size) - 1], relative_error) for q in (50, 95, 99)),
        f"summary() has count {size} and p50, p95, p99 within {relative_error:g} of the exact values",
        observed=f"it returned {summary!r}",
        hint="return {'count': self.count, 'p50': self.p50, 'p95': self.p95, 'p99': self.p99}",
    )


def _bound_hint(got: object, exact: float, error: float, ordered: list[float]) -> str:
    if not isinstance(got, int | float):
        return "percentile(p) returns a number (seconds)"
    if got > exact * (1 + error) and got <= exact * (1 + 2 * error) * 1.0001:
        return (
            "off by up to twice the bound: a bucket reported by its upper edge (or lower edge) is off by its "
            "whole width; report the value in its middle, 2 * g**k / (g + 1) for (g**(k-1), g**k]"
        )
    if got < exact * (1 - error) and got >= exact * (1 - 2 * error) * 0.9999:
        return (
            "off by up to twice the bound: a bucket reported by its lower edge is off by its whole width; "
            "report a value in its middle (2 * g**k / (g + 1) for (g**(k-1), g**k], g = (1 + e) / (1 - e))"
        )
    if got in ordered:
        return (
            "that is a value that was recorded, but not the one at this rank: every value counts (no sample, "
            "no window of recent values), and the rank is ceil(p * count / 100)"
        )
    return (
        "buckets must be narrow enough: with buckets (g**(k-1), g**k], g = (1 + e) / (1 - e), the middle "
        "2 * g**k / (g + 1) is within e of every value in the bucket; walk the buckets in increasing order "
        "until the count reaches rank ceil(p * count / 100)"
    )


@learner_facing
def check_recorder_memory(
    recorder_class: RecorderClass,
    *,
    relative_error: float = 0.01,
    size: int = 100_000,
    seed: int = 5,
    lowest: float = 1e-6,
    highest: float = 3600.0,
) -> None:
    """``size`` seeded latencies spread over the whole range (log-uniform in [lowest, highest]) are
    recorded; then ``footprint(recorder)`` is at most ``memory_budget(relative_error, lowest, highest)``
    bytes, and the p99 is within ``relative_error`` of the exact one."""
    chain = Chain("LatencyRecorder")
    recorder = _new_recorder(chain, recorder_class, relative_error=relative_error, lowest=lowest, highest=highest)
    rng = random.Random(f"memory|{size}|{seed}")
    low, high = math.log(lowest), math.log(highest)
    values = [min(highest, max(lowest, math.exp(rng.uniform(low, high)))) for _ in range(size)]
    _record_all(chain, recorder, values)
    used = footprint(recorder)
    budget = memory_budget(relative_error, lowest, highest)
    chain.require(
        used <= budget,
        f"after {size} values, footprint(recorder) is at most memory_budget({relative_error!r}, {lowest!r}, "
        f"{highest!r}) = {budget} bytes",
        observed=f"footprint(recorder) is {used} bytes ({used / size:.1f} bytes a value)",
        hint="keep one counter per bucket (a dict or a list of counts), never the values themselves: the memory "
        "must not grow with the number of values",
    )
    ordered = sorted(values)
    exact = ordered[exact_rank(99, size) - 1]
    got = chain.require_returns("percentile(99)", lambda: recorder.percentile(99), hint="")
    chain.require(
        _within(got, exact, relative_error),
        f"percentile(99) is within {relative_error:g} of the exact {exact!r}",
        observed=f"returned {got!r}",
        hint=_bound_hint(got, exact, relative_error, ordered),
    )


# ------------------------------------------------------------------ exercise 3: constant_rate


@dataclass
class Backend:
    """A service stand-in: ``call(i)`` takes ``durations[i % len(durations)]`` seconds, plus, if it arrives
    during ``stall`` = (from, until), the wait until ``until``. Records sends, ends and calls in flight, and
    emits each send and answer (``load.sent``, ``load.done``): the waits a cancellation sweep visits."""

    durations: tuple[float, ...]
    stall: tuple[float, float] | None = None
    sends: dict[int, float] = field(default_factory=dict)
    ends: dict[int, float] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)
    in_flight: int = 0
    peak: int = 0

    async def call(self, i: int) -> dict[str, int]:
        now = asyncio.get_running_loop().time()
        self.order.append(i)
        self.sends.setdefault(i, now)
        emit(Kind.LOAD_SENT, request=i)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            wait = self.durations[i % len(self.durations)]
            if self.stall is not None and self.stall[0] <= now < self.stall[1]:
                wait += self.stall[1] - now
            await asyncio.sleep(wait)
        finally:
            self.in_flight -= 1
        self.ends.setdefault(i, asyncio.get_running_loop().time())
        emit(Kind.LOAD_DONE, request=i)
        return {"request": i}


def planned(
    start: float,
    rate: float,
    count: int,
    connections: int,
    durations: tuple[float, ...],
    stall: tuple[float, float] | None,
) -> tuple[list[float], list[float], list[float]]:
    """The statement's schedule: intended times, send times and response times of each request."""
    free = [start] * connections
    intended, sends, ends = [], [], []
    previous = start
    for i in range(count):
        due = start + i / rate
        sent = max(due, heapq.heappop(free), previous)
        wait = durations[i % len(durations)]
        if stall is not None and stall[0] <= sent < stall[1]:
            wait += stall[1] - sent
        heapq.heappush(free, sent + wait)
        intended.append(due)
        sends.append(sent)
        ends.append(sent + wait)
        previous = sent
    return intended, sends, ends


def load_scenario(
    chain: Chain,
    constant_rate: ConstantRate,
    backend: Backend,
    *,
    start: float,
    rate: float,
    count: int,
    connections: int,
) -> tuple[object, float]:
    """At t = start, constant_rate(backend.call, ...): what it returned, and the loop's time then."""

    async def main() -> tuple[object, float]:
        await asyncio.sleep(start)
        latencies = await constant_rate(backend.call, rate=rate, count=count, connections=connections)
        return latencies, asyncio.get_running_loop().time()

    horizon = start + 4 * count / rate + 4 * count * max(backend.durations) + 60
    run = run_scenario(
        chain,
        main,
        deadline=horizon,
        what="constant_rate(...)",
        hang_hint="every request must end and free its connection (release in a finally), and the function "
        "must return once every response is in",
    )
    chain.require_no_leftover_tasks(run, "constant_rate(...)")
    return run.value if run.value is not None else (None, 0.0)


def _run_load(
    chain: Chain,
    constant_rate: ConstantRate,
    backend: Backend,
    *,
    start: float,
    rate: float,
    count: int,
    connections: int,
) -> tuple[list[float], float]:
    """The load scenario every constant_rate check runs, and its first properties: the latencies, when it returned."""
    chain.require_async_function(constant_rate, "constant_rate")
    latencies, returned = load_scenario(
        chain, constant_rate, backend, start=start, rate=rate, count=count, connections=connections
    )
    returns_one_latency_per_request(chain, latencies, count)
    calls_each_request_once(chain, backend, count)
    assert isinstance(latencies, list)
    return latencies, returned


def returns_one_latency_per_request(chain: Chain, latencies: object, count: int) -> None:
    chain.require(
        isinstance(latencies, list) and len(latencies) == count,
        f"it returns a list of {count} latencies",
        observed=f"it returned {latencies!r}"[:200],
        hint="make a new list in each call of constant_rate: a list kept between calls (at module level, or a "
        "default argument) still holds the latencies of the calls before"
        if isinstance(latencies, list) and len(latencies) > count
        else "return one latency per request, in request order: latencies[i] for call(i)",
    )


def calls_each_request_once(chain: Chain, backend: Backend, count: int) -> None:
    chain.require(
        sorted(backend.order) == list(range(count)),
        f"call(i) is awaited once for each i in range({count})",
        observed=f"the calls made were call({'), call('.join(map(str, backend.order[:12]))})"
        + (" ..." if len(backend.order) > 12 else ""),
        hint="make request i with `await call(i)`, once each, i from 0 to count - 1",
    )


def every_request_is_sent_when_due(
    chain: Chain, backend: Backend, intended: list[float], sends: list[float], limit: int
) -> None:
    for i, (due, expected) in enumerate(zip(intended, sends, strict=True)):
        got = backend.sends[i]
        if got == expected:
            continue
        if expected == due:
            prop = f"request {i} is sent at its intended time t={due:g} (a connection is free then)"
        else:
            prop = f"request {i}, intended at t={due:g}, is sent at t={expected:g}, as soon as a connection is free"
        if got < expected:
            hint = (
                "never send before the intended time start + i / rate, start being the loop's time when "
                "constant_rate was called (the clock does not start at 0)"
                if got < due
                else f"at most {limit} requests in flight at once: wait for a free connection"
            )
        elif i > 0 and got == backend.ends.get(i - 1) and backend.ends.get(i - 1, 0) > due:
            hint = (
                "you waited for the previous response before sending the next one: a closed loop. Send each "
                "request at its intended time, in its own task, up to `connections` at once"
            )
        else:
            hint = (
                "send request i at start + i / rate (start: loop.time() when constant_rate was called), "
                "or as soon as a connection frees up, whichever is later; never drift"
            )
        chain.fail(prop, observed=f"it was sent at t={got:g}", hint=hint)
    chain.passed("every request is sent when the statement says")


def latencies_count_from_the_intended_time(
    chain: Chain, backend: Backend, latencies: list[float], intended: list[float], ends: list[float]
) -> None:
    expected = [end - due for end, due in zip(ends, intended, strict=True)]
    if latencies == expected:
        chain.passed("latencies[i] is request i's response time minus its intended send time")
        return
    i = next(i for i, (got, want) in enumerate(zip(latencies, expected, strict=True)) if got != want)
    from_send = [backend.ends[k] - backend.sends[k] for k in range(len(ends))]
    at_send = [backend.sends[k] - intended[k] for k in range(len(ends))]
    by_completion = [ends[k] - intended[k] for k in sorted(range(len(ends)), key=lambda k: (ends[k], k))]
    if latencies == from_send:
        hint = (
            "that is measured from when the request was sent: requests held back while the service stalled "
            "do not count their wait (coordinated omission). Measure from the intended time start + i / rate"
        )
    elif latencies == at_send:
        hint = (
            "the time was read when request i was sent, not when its answer arrived: read the loop's time after "
            "`await call(i)` has returned (in request i's own task), then subtract its intended time"
        )
    elif latencies == by_completion:
        hint = "latencies are in order of completion: store latencies[i] for request i (request order)"
    elif all(isinstance(x, int | float) and abs(x) < min(expected) / 2 for x in latencies):
        hint = (
            "every latency is far below the service's time: time.perf_counter() and time.time() do not move "
            "with the loop's virtual clock; read asyncio.get_running_loop().time()"
        )
    else:
        hint = "latency = the loop's time when call(i) returned - (start + i / rate), start read once at the call"
    chain.fail(
        f"latencies[{i}]: request {i} was intended at t={intended[i]:g} and answered at t={ends[i]:g}: "
        f"{expected[i]:g} s",
        observed=f"latencies[{i}] is {latencies[i]!r}",
        hint=hint,
    )


DURATIONS = (0.75, 0.25, 1.5)


@learner_facing
def check_constant_rate_schedule(
    constant_rate: ConstantRate,
    *,
    rate: float = 4.0,
    count: int = 12,
    start: float = 2.5,
    runs: int = 1,
    sweep: bool = False,
) -> None:
    """``count`` requests at ``rate`` per second with ``connections=count`` (never a limit), from ``start``;
    service times cycle through 0.75, 0.25, 1.5 s: request i is sent at exactly ``start + i / rate``, and
    ``latencies[i]`` is its response time minus that, in request order; it returns after the last response.
    With ``runs=2``, a second call starts the instant the first returns: the same, from its own start, with
    latencies of its own. With ``sweep``, the cancellation sweep of :func:`constant_rate_sweep` instead."""
    chain = Chain("constant_rate")
    if sweep:
        constant_rate_sweep(chain, constant_rate, rate=rate, count=count, start=start)
        return
    if runs > 1:
        repeated_runs(chain, constant_rate, rate=rate, count=count, start=start, runs=runs)
        return
    backend = Backend(DURATIONS)
    latencies, returned = _run_load(
        chain, constant_rate, backend, start=start, rate=rate, count=count, connections=count
    )
    intended, sends, ends = planned(start, rate, count, count, DURATIONS, None)
    every_request_is_sent_when_due(chain, backend, intended, sends, count)
    latencies_count_from_the_intended_time(chain, backend, latencies, intended, ends)
    chain.require(
        returned == max(ends),
        f"it returns when the last response is in, at t={max(ends):g}",
        observed=f"it returned at t={returned:g}",
        hint="await every request's task before returning (a TaskGroup does it)",
    )


def repeated_runs(
    chain: Chain, constant_rate: ConstantRate, *, rate: float, count: int, start: float, runs: int
) -> None:
    """``runs`` calls one after the other, each the instant the one before returned, each on a backend of
    its own: each sends on its own schedule and returns its own ``count`` latencies."""
    chain.require_async_function(constant_rate, "constant_rate")
    backends = [Backend(DURATIONS) for _ in range(runs)]

    async def main() -> list[tuple[float, object]]:
        await asyncio.sleep(start)
        seen = []
        for backend in backends:
            began = asyncio.get_running_loop().time()
            seen.append((began, await constant_rate(backend.call, rate=rate, count=count, connections=count)))
        return seen

    horizon = start + runs * (count / rate + max(DURATIONS)) + 60
    run = run_scenario(chain, main, deadline=horizon, what=f"{runs} calls of constant_rate(...), one after the other")
    chain.require_no_leftover_tasks(run, f"{runs} calls of constant_rate(...)")
    assert run.value is not None
    for number, ((began, latencies), backend) in enumerate(zip(run.value, backends, strict=True), 1):
        what = f"call {number} of {runs}, at t={began:g}"
        chain.require(
            isinstance(latencies, list) and len(latencies) == count,
            f"{what}: it returns a list of {count} latencies",
            observed=f"it returned {latencies!r}"[:200],
            hint="make a new list in each call of constant_rate: a list kept between calls (at module level, or a "
            "default argument) still holds the latencies of the calls before",
        )
        assert isinstance(latencies, list)
        intended, sends, ends = planned(began, rate, count, count, DURATIONS, None)
        if backend.sends.get(0) != began:
            chain.fail(
                f"{what}: request 0 is sent at t={began:g}, when this call starts",
                observed=f"it was sent at t={backend.sends.get(0)!r}",
                hint="read start = loop.time() in each call of constant_rate, not once for all calls",
            )
        every_request_is_sent_when_due(chain, backend, intended, sends, count)
        latencies_count_from_the_intended_time(chain, backend, latencies, intended, ends)


async def _cancelled_run(
    constant_rate: ConstantRate, rate: float, count: int, connections: int, start: float, at: float
) -> Outcome:
    """At ``start``, ``constant_rate`` on a new backend, cancelled at ``at``: how it ended."""
    await asyncio.sleep(start)
    call = functools.partial(constant_rate, Backend(DURATIONS).call, rate=rate, count=count, connections=connections)
    return await cancelled_at(call, at)


SWEEP_HANG_HINT = (
    "when cancelled, stop sending and let the cancellation through: a TaskGroup cancels its requests and waits for them"
)


def constant_rate_sweep(chain: Chain, constant_rate: ConstantRate, *, rate: float, count: int, start: float) -> None:
    """A cancellation sweep (the kit's :func:`cancellation_sweep`): ``constant_rate`` (``connections=2``)
    cancelled as it starts, then at each instant a request is sent or answered, and between them, until its
    last answer is due, one run per instant: it ends with CancelledError, never with a list."""
    chain.require_async_function(constant_rate, "constant_rate")
    connections = 2
    _, _, ends = planned(start, rate, count, connections, DURATIONS, None)
    what = f"constant_rate(..., connections={connections}) from t={start:g}"
    deadline = start + count / rate + count * max(DURATIONS) + 60

    def scenario(at: float) -> VirtualRun[Outcome]:
        run = run_virtual(
            functools.partial(_cancelled_run, constant_rate, rate, count, connections, start, at), deadline=deadline
        )
        if at != UNCANCELLED and run.outcome != "returned":  # a run that returned passes silently
            chain.require_finished(run, f"{what}, cancelled at t={at:g}", hang_hint=SWEEP_HANG_HINT)
        return run

    swept = cancellation_sweep(
        chain,
        what,
        scenario,
        instants=functools.partial(sweep_instants, start=start, until=max(ends)),
        hang_hint=SWEEP_HANG_HINT,
    )
    ends_cancelled_at_each_wait(
        chain,
        what,
        swept,
        hint="let CancelledError propagate out of constant_rate: do not catch it (nor BaseException) to "
        "return the latencies measured so far; clean up in a finally, or re-raise it",
    )
    chain.passed(f"constant_rate cancelled at each of {len(swept)} instants ends with CancelledError")


@learner_facing
def check_constant_rate_from_intended(
    constant_rate: ConstantRate,
    *,
    rate: float = 4.0,
    count: int = 16,
    connections: int = 1,
    stall_at: str = "middle",
    stall: float = 2.0,
    start: float = 1.25,
) -> None:
    """``count`` requests at ``rate`` per second over ``connections`` connections, from ``start``; each
    takes 0.125 s, but the service stalls for ``stall`` s from the intended time of the ``"first"``,
    ``"middle"`` or ``"last"`` request: requests behind it are sent late, and their latency counts from
    their intended send time, not from when they were sent."""
    chain = Chain("constant_rate")
    index = {"first": 0, "middle": count // 2, "last": count - 1}[stall_at]
    window = (start + index / rate, start + index / rate + stall)
    durations = (0.125,)
    backend = Backend(durations, window)
    latencies, _ = _run_load(
        chain, constant_rate, backend, start=start, rate=rate, count=count, connections=connections
    )
    intended, sends, ends = planned(start, rate, count, connections, durations, window)
    every_request_is_sent_when_due(chain, backend, intended, sends, connections)
    latencies_count_from_the_intended_time(chain, backend, latencies, intended, ends)


@learner_facing
def check_constant_rate_connections(
    constant_rate: ConstantRate, *, rate: float = 8.0, count: int = 20, connections: int = 3, start: float = 0.75
) -> None:
    """``count`` requests at ``rate`` per second over ``connections`` connections, from ``start``; service
    times cycle through 0.75, 0.25, 1.5 s, longer than the interval: never more than ``connections`` in
    flight, requests sent in order as connections free up, latencies from the intended times; and
    ``count=0`` returns ``[]`` at once, without a call."""
    chain = Chain("constant_rate")
    empty = Backend(DURATIONS)
    none, returned = _run_load(chain, constant_rate, empty, start=start, rate=rate, count=0, connections=1)
    chain.require(
        none == [] and returned == start and not empty.order,
        "count=0 makes no call and returns [] at once",
        observed=f"it returned {none!r} at t={returned:g} after {len(empty.order)} call(s)",
        hint="with nothing to send, return an empty list without waiting",
    )
    backend = Backend(DURATIONS)
    latencies, _ = _run_load(
        chain, constant_rate, backend, start=start, rate=rate, count=count, connections=connections
    )
    chain.require(
        backend.peak <= connections,
        f"at most {connections} requests are in flight at once",
        observed=f"{backend.peak} were in flight at once",
        hint="take a connection before each call and give it back when the call ends (an asyncio.Semaphore "
        "acquired before sending, released in a finally)",
    )
    chain.require(
        backend.order == sorted(backend.order),
        "requests are sent in order: request i never before request i - 1",
        observed=f"they were sent in the order {describe_values(backend.order, 12)}",
        hint="wait for a free connection in the sending loop, before starting request i, so that they queue in order",
    )
    intended, sends, ends = planned(start, rate, count, connections, DURATIONS, None)
    every_request_is_sent_when_due(chain, backend, intended, sends, connections)
    latencies_count_from_the_intended_time(chain, backend, latencies, intended, ends)
