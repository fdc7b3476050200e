"""Properties of the chapter 9 reference (solutions/latency_statistics.py), on random inputs.

- ``percentile``: nearest-rank equals numpy's ``inverted_cdf`` (Hyndman & Fan type 1) and
  an exact oracle; linear equals numpy's default ``linear`` (type 7) and
  ``statistics.quantiles(method="inclusive")``; both are monotone in p, between the
  smallest and largest value, and leave the caller's list alone.
- ``LatencyRecorder``: every percentile within the relative error of the exact
  nearest-rank value, whatever the values and their order; memory that does not grow
  with the number of values.
- ``constant_rate``: on the virtual clock, sends and latencies equal the statement's
  schedule (a model with ``connections`` servers, in order), for random service times,
  stalls and starts; never more than ``connections`` in flight; no task left.
"""

from __future__ import annotations

import asyncio
import math
import statistics
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.chapters.latency_statistics.checks import PS, RECORDER_PS, Backend, planned
from coursekit.chapters.latency_statistics.given import footprint, memory_budget
from coursekit.virtual_time import run_virtual
from solutions.latency_statistics import LatencyRecorder, constant_rate, percentile

latencies = st.floats(min_value=1e-6, max_value=3600.0, allow_nan=False)
samples = st.lists(latencies, min_size=1, max_size=200)
ps = st.one_of(st.sampled_from([0, 100, 50, 99, 99.5]), st.integers(0, 100), st.integers(0, 400).map(lambda n: n / 4))


@settings(max_examples=200, deadline=None)
@given(values=samples, p=ps)
def test_nearest_rank_is_type_1_and_one_of_the_values(values: list[float], p: float) -> None:
    given_values = list(values)
    got = percentile(given_values, p, "nearest-rank")
    assert given_values == values
    rank = max(1, math.ceil(Fraction(p) * len(values) / 100))
    assert got == sorted(values)[rank - 1]
    assert got == np.percentile(values, p, method="inverted_cdf")


@settings(max_examples=200, deadline=None)
@given(values=samples, p=ps)
def test_linear_is_type_7_like_numpy_and_statistics_inclusive(values: list[float], p: float) -> None:
    got = percentile(values, p, "linear")
    bound = 1e-9 * max(abs(v) for v in values)
    assert abs(got - float(np.percentile(values, p, method="linear"))) <= bound
    assert min(values) <= got <= max(values)
    if len(values) >= 2 and p in range(1, 100):
        assert abs(got - statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]) <= bound


@settings(max_examples=100, deadline=None)
@given(values=samples, method=st.sampled_from(["nearest-rank", "linear"]))
def test_percentiles_grow_with_p(values: list[float], method: str) -> None:
    answers = [percentile(values, p, method) for p in PS]
    assert answers == sorted(answers)
    assert answers[0] == min(values) and answers[-1] == max(values)


def test_no_values_an_impossible_p_or_an_unknown_method_raise_value_error() -> None:
    for args in (([], 50, "nearest-rank"), ([], 50, "linear"), ([1.0], -0.5, "linear"), ([1.0], 101, "linear")):
        with pytest.raises(ValueError):
            percentile(*args)
    with pytest.raises(ValueError):
        percentile([1.0, 2.0], 50, "exclusive")


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(latencies, min_size=1, max_size=400),
    error=st.sampled_from([0.001, 0.01, 0.05, 0.2]),
    reverse=st.booleans(),
)
def test_recorder_percentiles_are_within_the_relative_error(values: list[float], error: float, reverse: bool) -> None:
    recorder = LatencyRecorder(relative_error=error)
    for value in sorted(values, reverse=reverse) if reverse else values:
        recorder.record(value)
    ordered = sorted(values)
    assert recorder.count == len(values)
    for p in RECORDER_PS:
        exact = ordered[max(1, math.ceil(p * len(values) / 100)) - 1]
        assert abs(recorder.percentile(p) - exact) <= error * exact * (1 + 1e-9)
    summary = recorder.summary()
    assert summary["count"] == len(values) and set(summary) == {"count", "p50", "p95", "p99"}


def test_an_empty_recorder_invents_nothing() -> None:
    recorder = LatencyRecorder()
    assert recorder.summary() == {"count": 0, "p50": None, "p95": None, "p99": None}
    with pytest.raises(ValueError):
        recorder.percentile(50)
    for bad in (-1.0, 0.0, 1e-7, 3600.5):
        with pytest.raises(ValueError):
            recorder.record(bad)
    assert recorder.count == 0


def test_recorder_memory_does_not_grow_with_the_number_of_values() -> None:
    recorder = LatencyRecorder(relative_error=0.01)
    sizes = []
    for round_ in range(4):
        for n in range(20_000):
            recorder.record(1e-6 * 1.0001 ** (n * 9 + round_))  # the same range of buckets every round
        sizes.append(footprint(recorder))
    assert sizes[1] == sizes[2] == sizes[3] <= memory_budget(0.01, 1e-6, 3600.0)


sixty_fourths = st.integers(1, 128).map(lambda n: n / 64)


@settings(max_examples=60, deadline=None)
@given(
    rate=st.sampled_from([1.0, 2.0, 4.0, 8.0, 16.0]),
    count=st.integers(0, 30),
    connections=st.integers(1, 6),
    durations=st.lists(sixty_fourths, min_size=1, max_size=4).map(tuple),
    stall=st.one_of(
        st.none(), st.tuples(st.integers(0, 200), st.integers(1, 200)).map(lambda t: (t[0] / 16, t[1] / 16))
    ),
    start=st.integers(0, 400).map(lambda n: n / 8),
)
def test_constant_rate_follows_the_schedule(
    rate: float,
    count: int,
    connections: int,
    durations: tuple[float, ...],
    stall: tuple[float, float] | None,
    start: float,
) -> None:
    window = None if stall is None else (start + stall[0], start + stall[0] + stall[1])
    backend = Backend(durations, window)

    async def main() -> list[float]:
        await asyncio.sleep(start)
        return await constant_rate(backend.call, rate=rate, count=count, connections=connections)

    run = run_virtual(main, deadline=10_000)
    assert run.outcome == "returned" and not run.leftover
    intended, sends, ends = planned(start, rate, count, connections, durations, window)
    assert [backend.sends[i] for i in range(count)] == sends
    assert run.value == [end - due for end, due in zip(ends, intended, strict=True)]
    assert backend.peak <= connections and backend.order == list(range(count))
    assert run.elapsed == (max(ends) if ends else start)
