"""Cost per record of a latency summary: the chapter 9 reference next to hdrh, in one run.

    .venv/bin/python benchmarks/latency_summary_cost.py [--values 200000] [--runs 7]

Each row records the same ``--values`` seeded latencies (lognormal, median 40 ms, in
seconds) into a fresh summary: a plain list (``append``: every value kept, the baseline
with no summary at all), the reference :class:`LatencyRecorder` (logarithmic buckets in
a dict, 1% relative error), and hdrh's ``HdrHistogram.record_value`` (2 significant
digits, 1%; it takes integers, so the row includes turning seconds into microseconds).
The cost per record is the median of ``--runs`` runs (the rows interleaved, after a
warm-up round), minus the same loop doing nothing, divided by ``--values``. It also
prints what each holds afterwards (``coursekit.chapters.latency_statistics.given.footprint``; hdrh's counts array)
and the time of one p99 query. Wall clock: compare the rows of one run, not runs on
different machines. The script reports ratios; it asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from coursekit.chapters.latency_statistics.given import footprint  # noqa: E402  (after the path is set)
from solutions.latency_statistics import LatencyRecorder  # noqa: E402


def nothing(values: list[float]) -> Any:
    for _seconds in values:
        pass
    return None


def a_list(values: list[float]) -> Any:
    kept: list[float] = []
    for seconds in values:
        kept.append(seconds)
    return kept


def reference(values: list[float]) -> Any:
    recorder = LatencyRecorder(relative_error=0.01, lowest=1e-6, highest=3600.0)
    for seconds in values:
        recorder.record(seconds)
    return recorder


def hdrh(values: list[float]) -> Any:
    histogram = HdrHistogram(1, 3_600_000_000, 2)
    for seconds in values:
        histogram.record_value(round(seconds * 1e6))
    return histogram


ROWS: dict[str, Callable[[list[float]], Any]] = {
    "list.append (no summary)": a_list,
    "LatencyRecorder (reference)": reference,
    "hdrh HdrHistogram.record_value": hdrh,
}


def p99(held: Any) -> float:
    """One p99 query of what a row holds (the list is sorted for it: the cost of keeping every value)."""
    if isinstance(held, HdrHistogram):
        return float(held.get_value_at_percentile(99)) / 1e6
    if isinstance(held, list):
        return float(sorted(held)[max(1, math.ceil(99 * len(held) / 100)) - 1])
    return float(held.percentile(99))


def timed(function: Callable[[list[float]], Any], values: list[float]) -> tuple[float, Any]:
    begun = time.perf_counter()
    result = function(values)
    return time.perf_counter() - begun, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    draws = random.Random(1)
    values = [draws.lognormvariate(math.log(0.04), 0.6) for _ in range(args.values)]
    times: dict[str, list[float]] = {name: [] for name in ["nothing", *ROWS]}
    results: dict[str, Any] = {}
    for round_ in range(args.runs + 1):
        for name, function in [("nothing", nothing), *ROWS.items()]:
            seconds, results[name] = timed(function, values)
            if round_:  # round 0 warms up
                times[name].append(seconds)
    base = statistics.median(times["nothing"])
    per_record = {name: (statistics.median(times[name]) - base) / args.values * 1e9 for name in ROWS}
    hdr_cost = per_record["hdrh HdrHistogram.record_value"]
    print(f"{args.values} records, median of {args.runs} runs, Python {sys.version.split()[0]}")
    print(f"{'summary':<34}{'ns/record':>10}{'vs hdrh':>9}{'bytes held':>12}{'p99 query':>12}")
    for name in ROWS:
        held = results[name]
        size = held.counts_len * held.word_size if isinstance(held, HdrHistogram) else footprint(held)
        begun = time.perf_counter()
        p99(held)
        query_us = (time.perf_counter() - begun) * 1e6
        ratio = per_record[name] / hdr_cost
        print(f"{name:<34}{per_record[name]:>10.0f}{ratio:>8.2f}x{size:>12}{query_us:>10.0f} µs")


if __name__ == "__main__":
    main()
