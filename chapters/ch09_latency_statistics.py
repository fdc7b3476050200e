# %% [markdown]
# # Chapter 9 — Latency statistics
#
# "The service answers in 40 ms" says little: 40 ms on average, for half the requests, or
# for all but one in a hundred? Latency is summarized by **percentiles**: p50 (the median),
# p95, p99. The one-in-a-hundred request is not rare for your users: a page that makes 30
# requests hits the p99 of at least one of them about a quarter of the time.
#
# Three things go wrong when people compute them, and this chapter takes each in turn:
#
# 1. **the method**: "the 95th percentile" of 20 values is one of several numbers,
#    depending on the definition; a report that does not name its method cannot be
#    compared with another (exercise 1, `percentile(values, p, method)`);
# 2. **memory**: keeping every latency of a long run to sort it later does not scale; a
#    histogram with logarithmic buckets keeps a bounded number of counters and still gives
#    every percentile within a stated relative error (exercise 2, `LatencyRecorder`);
#    compared with the `hdrhistogram` package;
# 3. **coordinated omission**: a load generator that waits for each answer before sending
#    the next request stops measuring exactly when the service is slow, and reports a p99
#    that hides a two-second stall; measure from the **intended** send time (exercise 3,
#    `constant_rate`).
#
# The source is document 000, §6 (`LatencyStats`) and §8 (a crawler that reports its
# latencies). Timed runs are on the virtual clock (chapter 0), so every figure below is the
# same on every run.

# %% locked="ch09-setup"
# %matplotlib inline
import asyncio
import math  # noqa: F401  (your solutions' buckets)
import random
import statistics
from collections.abc import Awaitable, Callable, Sequence  # noqa: F401  (your solutions' annotations)
from typing import Any  # noqa: F401  (your solutions' annotations)

import numpy as np

from coursekit import exercise_done, run_virtual
from coursekit.chapters.latency_statistics import (  # noqa: F401  (METHODS: your solutions)
    METHODS,
    StalledService,
    check_constant_rate_connections,
    check_constant_rate_from_intended,
    check_constant_rate_schedule,
    check_percentile_edges,
    check_percentile_linear,
    check_percentile_nearest_rank,
    check_recorder_basics,
    check_recorder_error_bound,
    check_recorder_memory,
    footprint,
    log_buckets,
    memory_budget,
    show_cdf,
    show_coordinated_omission,
    show_latency_histogram,
)
from coursekit.service import Faults, Latency

# %% [markdown]
# ## 1. Document 000's `LatencyStats`
#
# Document 000 (§6) keeps every latency in a list, and computes a percentile by sorting the
# list and taking the element at index `int(len * p / 100)`, clamped to the last one. Its
# `summary()` reports the count, the average and p50/p95/p99 in milliseconds. Here is a
# class of our own with the same two formulas, to study them:


# %%
class ListStats:
    """Every latency in a list; document 000's index formula and summary."""

    def __init__(self):
        self.latencies = []

    def record(self, seconds):
        self.latencies.append(seconds)

    def percentile(self, p):
        if not self.latencies:
            return 0  # document 000: no values, "0 s"
        ordered = sorted(self.latencies)
        return ordered[min(int(len(ordered) * p / 100), len(ordered) - 1)]

    def summary(self):
        return {
            "count": len(self.latencies),
            "avg_ms": sum(self.latencies) / len(self.latencies) * 1000,
            "p50_ms": self.percentile(50) * 1000,
            "p99_ms": self.percentile(99) * 1000,
        }


# %% [markdown]
# ## 2. Bug hunt: which percentile is that?
#
# The document never says which definition its index implements. Two are standard:
#
# * **nearest rank** — the smallest value with at least p % of the values at or below it:
#   sort the n values and take the one of rank ⌈p·n/100⌉ (1-based; rank 1 for p = 0). It is
#   always one of the measured values. This is the nearest-rank method of Wikipedia's
#   *Percentile* article, type 1 of Hyndman & Fan's classification (*Sample quantiles in
#   statistical packages*, The American Statistician, 1996), numpy's
#   `method="inverted_cdf"`.
# * **linear interpolation** — h = (n − 1)·p/100 (0-based), and the value between the
#   sorted values `x[⌊h⌋]` and `x[⌊h⌋ + 1]` in proportion: Hyndman & Fan type 7, the
#   default of numpy (`method="linear"`), of R and of Excel's `PERCENTILE.INC`.
#
# Python's `statistics.quantiles(data, n=100)` is a third: by default
# `method="exclusive"`, Hyndman & Fan type 6 (h = (n + 1)·p/100), and with
# `method="inclusive"`, type 7. Ten latencies, the four answers side by side:

# %%
ten = [0.012, 0.015, 0.011, 0.030, 0.013, 0.250, 0.014, 0.016, 0.019, 0.012]
study = ListStats()
for seconds in ten:
    study.record(seconds)
exclusive = statistics.quantiles(ten, n=100)  # 99 cut points: p1 ... p99
inclusive = statistics.quantiles(ten, n=100, method="inclusive")
print(" p   document 000   nearest rank   linear (type 7)   quantiles exclusive (type 6)")
for p in (10, 50, 90, 95, 99):
    nearest = np.percentile(ten, p, method="inverted_cdf")
    linear = np.percentile(ten, p, method="linear")
    assert math.isclose(linear, inclusive[p - 1])
    print(f"{p:>2}   {study.percentile(p):>12.4f}   {nearest:>12.4f}   {linear:>15.4f}   {exclusive[p - 1]:>26.4f}")

# %% [markdown]
# Document 000's index is **neither**: `int(n * p / 100)` is the 0-based index of rank
# ⌊p·n/100⌋ + 1, one rank above nearest rank whenever p·n/100 is a whole number. Its p50
# of ten values is the 6th smallest (nearest rank: the 5th), and its p90 is the largest
# value, 250 ms, where nearest rank says 30 ms: one slow request in ten is reported as
# the p90. Linear interpolation gives a value nobody measured (p90 = 52 ms), and the
# `statistics` default goes further: type 6 puts p90 at 228 ms. Four "p90"s of the same
# data, from 30 ms to 250 ms. With a few values, percentiles are fragile; whatever the
# method, **name it** next to the number.
#
# ## 3. Bug hunt: a summary of nothing
#
# A load test where every request failed before it was timed (or a dashboard just after a
# restart) calls `summary()` with no values:

# %%
empty = ListStats()
print("percentile(99) with no values:", empty.percentile(99))
try:
    empty.summary()
except ZeroDivisionError as error:
    print("summary() with no values: ZeroDivisionError:", error)

# %% [markdown]
# Both are wrong, in opposite ways. `summary()` divides the sum by `len(...) == 0` and
# raises, so the report of a run where nothing succeeded is a crash instead of "0 requests".
# `percentile` **invents** a number: "p99 = 0 ms" reads as a fast service. A percentile
# of no values does not exist: the chapter's `percentile` raises `ValueError` (as
# `statistics.quantiles` does, with `StatisticsError`, a `ValueError`), and a summary
# reports the count and `None` for what it cannot know.

# %% [markdown] statement="ch09-ex1-statement"
# ## Exercise 1 — `percentile(values, p, method)` (4 points)
#
# Write `percentile(values, p, method="nearest-rank")`, the `p`-th percentile of a list of
# numbers `values` (in any order), `0 <= p <= 100`, by the method named (`METHODS`, given,
# holds both names):
#
# * `"nearest-rank"`: sort the n values; return the value of rank `r = ceil(p * n / 100)`
#   (1-based), and rank 1 when p = 0. The answer is always one of the values, exactly. The
#   rank is exact: for p = 7 and 100 values it is 7 (compute `p * n / 100`: in floating
#   point `7 / 100 * 100` is 7.000000000000001, whose ceiling is 8).
# * `"linear"` (Hyndman & Fan type 7, numpy's default): on the sorted values `x` (0-based),
#   `h = (n - 1) * p / 100`; return `x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] -
#   x[floor(h)])`, where at p = 100 (`h = n - 1`) the answer is the largest value.
#   Floating-point rounding is allowed: the checks accept any answer within
#   `1e-9 * max(abs(v) for v in values)` of the exact value.
# * No values, `p` outside [0, 100], or a method other than these two: raise `ValueError`.
# * Do not change the caller's list (no `values.sort()`).
#
# Nothing here awaits: it is a plain function.

# %% solution="ch09-ex1-percentile"
from solutions.latency_statistics import percentile

# %% tests="ch09-ex1-nearest-rank" points=2
check_percentile_nearest_rank(percentile)
### BEGIN HIDDEN TESTS
check_percentile_nearest_rank(percentile, size=100, seed=2)
check_percentile_nearest_rank(percentile, size=1, seed=3)
check_percentile_nearest_rank(percentile, size=20, seed=4, repeated=True)
check_percentile_nearest_rank(percentile, size=7, seed=5)
### END HIDDEN TESTS

# %% tests="ch09-ex1-linear" points=1
check_percentile_linear(percentile)
### BEGIN HIDDEN TESTS
check_percentile_linear(percentile, size=100, seed=2)
check_percentile_linear(percentile, size=1, seed=3)
check_percentile_linear(percentile, size=20, seed=4, repeated=True)
### END HIDDEN TESTS

# %% tests="ch09-ex1-edges" points=1
check_percentile_edges(percentile)
### BEGIN HIDDEN TESTS
check_percentile_edges(percentile, value=3.0)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Long runs: every value, or a bounded summary?
#
# A service answering 2 000 requests a second produces 170 million latencies a day. Kept in
# a list, each costs a float object and a pointer, 32 bytes (`footprint`, given, adds up
# what an object holds):

# %%
draws = random.Random(1)
day_sample = [draws.lognormvariate(math.log(0.04), 0.6) for _ in range(100_000)]
per_value = footprint(day_sample) / len(day_sample)
print(f"a list of {len(day_sample)} latencies: {footprint(day_sample)} bytes, {per_value:.1f} bytes a value")
print(f"a day at 2000 requests/s: {per_value * 2000 * 86400 / 1e9:.1f} GB")

# %% [markdown]
# And every percentile sorts them all again. Yet a latency report never needs more than
# about two significant digits: 41.3 ms or 41.7 ms, nobody acts differently. So count the
# values in **buckets** whose width grows with the value: with buckets
# `(g**(k-1), g**k]` and `g = (1 + e) / (1 - e)`, the value `2 * g**k / (g + 1)` in the
# middle of a bucket is within a *relative* error `e` of every value in it. From 1 µs to
# one hour with e = 1 %, that is how many buckets?

# %%
for bound in (0.05, 0.01, 0.001):
    print(f"relative error {bound:>5}: {log_buckets(bound, 1e-6, 3600.0):>6} buckets from 1 µs to 1 h")

# %% [markdown]
# A thousand counters instead of millions of values, whatever the length of the run, and
# any percentile by walking the buckets in order until the count reaches the rank. This is
# the layout of DDSketch (Masson, Rim & Lee, VLDB 2019). HdrHistogram, which you will meet
# below, uses a log-*linear* layout: powers of two, each split into equal sub-buckets.

# %% [markdown] statement="ch09-ex2-statement"
# ## Exercise 2 — the `LatencyRecorder` class (5 points)
#
# Complete `LatencyRecorder`: a summary of latencies (seconds) in bounded memory. The
# constructor's parameters, their defaults and the attributes it sets are given; add the
# state you need in it (your buckets).
#
# * `record(seconds)` counts one value and adds 1 to `self.count`. A value outside
#   `[self.lowest, self.highest]` (negative ones included) raises `ValueError` and is not
#   counted.
# * `percentile(p)` is the nearest-rank percentile (exercise 1's definition, rank
#   `ceil(p * count / 100)`, at least 1) of **every** value recorded, within the relative
#   error: `abs(answer - exact) <= relative_error * exact` (the checks allow rounding of a
#   billionth of that). Any bucket layout that meets this bound is fine. `p` outside [0, 100]
#   raises `ValueError`; so does a recorder with no values: a percentile of nothing does not
#   exist.
# * `summary()` returns `{"count": count, "p50": ..., "p95": ..., "p99": ...}` (the given
#   properties `p50`, `p95`, `p99` call `percentile`). With no values it is exactly
#   `{"count": 0, "p50": None, "p95": None, "p99": None}`: no division by zero, no invented
#   number.
# * Memory is bounded: keep counters, never the values. However many values are recorded,
#   `footprint(recorder)` (given) stays at most `memory_budget(relative_error, lowest,
#   highest)` bytes (given: 400 bytes per bucket of the logarithmic layout above, plus
#   16 KiB).

# %% solution="ch09-ex2-recorder"
from solutions.latency_statistics import LatencyRecorder

# %% tests="ch09-ex2-basics" points=1
check_recorder_basics(LatencyRecorder)
### BEGIN HIDDEN TESTS
check_recorder_basics(LatencyRecorder, relative_error=0.05, value=1e-06)
check_recorder_basics(LatencyRecorder, relative_error=0.001, value=60.0, highest=60.0)
### END HIDDEN TESTS

# %% tests="ch09-ex2-error-bound" points=2
check_recorder_error_bound(LatencyRecorder)
### BEGIN HIDDEN TESTS
check_recorder_error_bound(LatencyRecorder, relative_error=0.001, seed=4, stall="first")
check_recorder_error_bound(LatencyRecorder, relative_error=0.05, size=500, seed=5, stall="last")
check_recorder_error_bound(LatencyRecorder, relative_error=0.01, size=1, seed=6)
check_recorder_error_bound(LatencyRecorder, relative_error=0.02, size=3000, seed=7, lowest=0.001, highest=60.0)
check_recorder_error_bound(LatencyRecorder, size=100, seed=8, ps=(7, 14, 28, 55, 56))
### END HIDDEN TESTS

# %% tests="ch09-ex2-memory" points=2
check_recorder_memory(LatencyRecorder)
### BEGIN HIDDEN TESTS
check_recorder_memory(LatencyRecorder, relative_error=0.001, size=50000, seed=6, lowest=0.0001, highest=100.0)
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Your recorder next to HdrHistogram
#
# [HdrHistogram](https://hdrhistogram.github.io/HdrHistogram/) (Gil Tene) is the histogram
# most latency tools use (wrk2, Cassandra, HBase); `hdrh` is its Python port. It records
# integers (here microseconds) between a lowest and a highest trackable value, to a number
# of significant decimal digits: 2 digits bound the error to 1 %. The same 100 000
# latencies into both, and every percentile from 0 to 100 in steps of 0.5 compared with the
# exact nearest-rank value:

# %%
from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]

ordered = sorted(day_sample)


def worst_error(answer):
    errors = []
    for step in range(201):
        p = step / 2
        exact = ordered[max(1, math.ceil(p * len(ordered) / 100)) - 1]
        errors.append(abs(answer(p) - exact) / exact)
    return max(errors)


if exercise_done("exercise 2", LatencyRecorder):
    ours = LatencyRecorder(relative_error=0.01, lowest=1e-6, highest=3600.0)
    hdr = HdrHistogram(1, 3_600_000_000, 2)  # microseconds, 1 µs .. 1 h, 2 significant digits
    for seconds in day_sample:
        ours.record(seconds)
        hdr.record_value(round(seconds * 1e6))
    print(f"ours: worst relative error {worst_error(ours.percentile):.3%} (bound 1%)")
    print(f"hdrh: worst relative error {worst_error(lambda p: hdr.get_value_at_percentile(p) / 1e6):.3%} (bound 1%)")
    print(f"ours: {footprint(ours)} bytes (budget {memory_budget(0.01, 1e-6, 3600.0)})")
    print(f"hdrh: {hdr.counts_len} counters of {hdr.word_size} bytes = {hdr.counts_len * hdr.word_size} bytes")

# %% [markdown]
# Both stay within their bound. HdrHistogram allocates every counter of its range up front
# (an array, fixed size, fast to index); a dict of the buckets actually used is smaller
# when the latencies cover a small part of the range, as they do here. Two differences of
# meaning are worth knowing before you compare their numbers:

# %%
few = HdrHistogram(1, 3_600_000_000, 2)
for micros in (10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 70_000, 80_000, 90_000, 100_000):
    few.record_value(micros)
print("hdrh p52 of 10 values:", few.get_value_at_percentile(52) / 1000, "ms; nearest rank: 60 ms (rank 6)")
print("hdrh p99 of no values:", HdrHistogram(1, 3_600_000_000, 2).get_value_at_percentile(99))

# %% [markdown]
# * hdrh's rank is `int(p * count / 100 + 0.5)`, *rounded*, not the nearest rank's ceiling:
#   its p52 of ten values is the 5th value, not the 6th;
# * an empty HdrHistogram answers 0 to every percentile: document 000's invented number.
#
# What each costs per `record`, in wall-clock time, is measured by
# `benchmarks/latency_summary_cost.py` (a list append, the reference `LatencyRecorder`,
# hdrh's `record_value`, side by side in one run).
#
# ## 6. Pictures of a latency distribution
#
# The course's service with a long-tailed latency (lognormal, median 40 ms), 500 requests
# one after another on the virtual clock. A histogram (log-scaled buckets) with its
# nearest-rank percentiles, and the cumulative distribution (CDF): the share of requests
# at or below each latency; p50 and p99 are where it crosses the guide lines at 0.5 and
# 0.99.

# %%
tail_service = StalledService(seed=4, faults=Faults(latency=Latency.lognormal(0.04, 0.7)))


async def one_at_a_time(service, count):
    latencies = []
    async with service.client() as client:
        loop = asyncio.get_running_loop()
        for n in range(count):
            sent = loop.time()
            await client.get(f"/items/{n}")
            latencies.append(loop.time() - sent)
    return latencies


tail = run_virtual(one_at_a_time(tail_service, 500), deadline=1000, wall_limit=120).unwrap()
show_latency_histogram({"the service, lognormal latency": tail})
show_cdf({"the service, lognormal latency": tail})

# %% [markdown]
# The same 500 latencies recorded in your `LatencyRecorder` (1 % relative error), its
# summary in milliseconds: within 1 % of the exact percentiles printed above the histogram.

# %%
if exercise_done("exercise 2", LatencyRecorder):
    recorded = LatencyRecorder(relative_error=0.01, lowest=1e-4, highest=60.0)
    for seconds in tail:
        recorded.record(seconds)
    print({key: round(value * 1000, 1) if key != "count" else value for key, value in recorded.summary().items()})

# %% [markdown]
# ## 7. Coordinated omission
#
# The loop above sends a request, **waits for its answer**, then sends the next. Suppose the
# service freezes for 2 s (a garbage collection, a full disk). The loop sends one request
# into the freeze, waits 2 s for it, records one latency of 2 s, and goes on. Meanwhile
# real users, who do not wait for each other, kept arriving: at 8 a second, sixteen
# of them would have waited up to 2 s too. The loop recorded **one** slow request where a
# user population sees sixteen: the load generator coordinated with the service and
# omitted the measurements that mattered (Gil Tene's "coordinated omission").
#
# Document 000's crawler (§8) has a variant of it: it starts its timer *inside*
# `async with semaphore`, after the wait for a free slot. Its report leaves out the
# queueing, which is what its callers actually waited for. Our reproduction, 100 URLs, 10
# at a time, each answered in 100 ms:


# %%
async def crawler_report(urls, max_concurrent=10):
    semaphore = asyncio.Semaphore(max_concurrent)
    loop = asyncio.get_running_loop()
    begun = loop.time()
    reported, waited = [], []

    async def fetch_one(url):
        async with semaphore:
            start = loop.time()  # as in document 000: after the slot is free
            await asyncio.sleep(0.1)  # the request
            reported.append(loop.time() - start)
        waited.append(loop.time() - begun)

    await asyncio.gather(*(fetch_one(url) for url in urls))
    return reported, waited


reported, waited = run_virtual(crawler_report([f"/pages/{n}" for n in range(100)])).unwrap()
if exercise_done("exercise 1", percentile):
    print(f"the crawler reports p99 = {percentile(reported, 99) * 1000:.0f} ms (nearest rank)")
    print(f"its callers waited p99 = {percentile(waited, 99) * 1000:.0f} ms")

# %% [markdown]
# The fix is to measure from when the request **should** have been sent. A constant-rate
# load generator decides the schedule in advance, request `i` at `start + i / rate`; when
# the service stalls and a request goes out late, its latency still counts from its
# intended time. (wrk2 does this; hdrh's `record_corrected_value` patches it afterwards by
# inventing the missing samples.) First, the closed loop of the crawler's kind, measuring
# from the send, against the course's service with a 2 s stall (a `StalledService`, given:
# a request arriving during the stall is held until it ends):


# %%
def stalled():
    return StalledService(seed=9, faults=Faults(latency=Latency.lognormal(0.02, 0.4)), stalls=((10.0, 12.0),))


async def closed_loop(service, rate, count):
    """One request at a time, each sent at its turn or after the previous answer; timed from its send."""
    latencies = []
    async with service.client() as client:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(count):
            await asyncio.sleep(max(0.0, start + i / rate - loop.time()))
            sent = loop.time()
            await client.get(f"/items/{i}")
            latencies.append(loop.time() - sent)
    return latencies


naive = run_virtual(closed_loop(stalled(), 8.0, 320), deadline=120, wall_limit=120).unwrap()
if exercise_done("exercise 1", percentile):
    print(
        f"closed loop, timed from the send: p50 {percentile(naive, 50) * 1000:.1f} ms, "
        f"p99 {percentile(naive, 99) * 1000:.1f} ms"
    )
    print(f"  latencies over 1 s: {sum(seconds > 1 for seconds in naive)} of {len(naive)}")

# %% [markdown]
# A p99 of about 50 ms for a service that froze for two seconds in a forty-second run. Now
# write the generator that measures from the intended time.

# %% [markdown] statement="ch09-ex3-statement"
# ## Exercise 3 — `constant_rate(call, *, rate, count, connections)` (4 points)
#
# Write `async def constant_rate(call, *, rate, count, connections)`, a load generator that
# makes `count` requests, request `i` being `await call(i)` (`i` from 0 to `count - 1`;
# calls in this exercise do not raise), and returns their latencies.
#
# * Request `i` is **intended** at `start + i / rate`, `start` being the loop's time
#   (`asyncio.get_running_loop().time()`) when `constant_rate` is called; the clock does
#   not start at 0.
# * At most `connections` requests are in flight at once. A request is sent at its
#   intended time if a connection is free then; otherwise as soon as one is free. Requests
#   are sent in order: request `i` never before request `i - 1`. Never wait for one answer
#   before sending the next while a connection is free.
# * `latencies[i]` is the loop's time when `call(i)` returned minus request `i`'s intended
#   time (not minus when it was sent): a request held back by a stalled service counts the
#   time it waited to be sent. Return the list of the `count` latencies in request order.
# * Return once every response is in, leaving no task running; `count=0` returns `[]` at
#   once.
# * Cancelled while it runs (its caller cancelled), it ends with `CancelledError`, never
#   with a list.
#
# Any design is fine: a task per request, a `TaskGroup`, a semaphore, workers.

# %% solution="ch09-ex3-constant-rate"
from solutions.latency_statistics import constant_rate

# %% tests="ch09-ex3-schedule" points=2
check_constant_rate_schedule(constant_rate)
### BEGIN HIDDEN TESTS
check_constant_rate_schedule(constant_rate, rate=2.0, count=5, start=0.0)
check_constant_rate_schedule(constant_rate, rate=16.0, count=1, start=7.75)
check_constant_rate_schedule(constant_rate, runs=2)
check_constant_rate_schedule(constant_rate, sweep=True)
check_constant_rate_schedule(constant_rate, rate=2.0, count=5, start=0.0, sweep=True)
### END HIDDEN TESTS

# %% tests="ch09-ex3-intended" points=1
check_constant_rate_from_intended(constant_rate)
### BEGIN HIDDEN TESTS
check_constant_rate_from_intended(constant_rate, stall_at="first", start=0.0)
check_constant_rate_from_intended(constant_rate, stall_at="last", connections=2, start=3.5)
check_constant_rate_from_intended(constant_rate, rate=8.0, count=24, connections=2, stall=1.5, start=0.5)
### END HIDDEN TESTS

# %% tests="ch09-ex3-connections" points=1
check_constant_rate_connections(constant_rate)
### BEGIN HIDDEN TESTS
check_constant_rate_connections(constant_rate, rate=4.0, count=9, connections=1, start=0.0)
check_constant_rate_connections(constant_rate, rate=16.0, count=30, connections=5, start=12.25)
### END HIDDEN TESTS

# %% [markdown]
# ### Your generator, in pictures
#
# The stalled service again (frozen from t = 10 to t = 12, hatched), 8 requests a second
# for 40 s over one connection, through your `constant_rate`; each request's latency
# against its intended send time, measured from the send (blue crosses) and from the
# intended send (red dots). Left, your `constant_rate`; right, the reference.

# %%
from coursekit import reference_run
from coursekit.chapters.latency_statistics import RATE, STALLS, START, stall_run

if exercise_done("exercise 3", constant_rate):
    both = {
        "your constant_rate": stall_run(constant_rate),
        "reference": reference_run("latency_statistics", "stall_run"),
    }
    show_coordinated_omission(both, start=START, rate=RATE, stalls=STALLS)

# %% [markdown]
# The same requests, the same answers: from the send, one request took 2 s and the rest
# about 20 ms; from the intended send, the requests due during the stall waited up to 2 s,
# in a ramp that falls as the backlog drains. The p99 differs by a factor of thirty. Your
# latencies in a histogram and a CDF:

# %%
if exercise_done("exercise 3", constant_rate):
    yours = both["your constant_rate"].unwrap()
    show_latency_histogram({"from the intended send (yours)": yours, "from the send (closed loop)": naive})
    show_cdf({"from the intended send (yours)": yours, "from the send (closed loop)": naive})

# %% [markdown]
# ## 8. On a real socket
#
# Your `constant_rate` and `LatencyRecorder` against the course's service served for real
# by uvicorn on 127.0.0.1, on the real clock: 50 requests a second for one second, over 8
# connections, the service answering in 5 ms and frozen for half a second from t = 0.2
# (service time, which starts when the server does, a little before the load). Real
# timings differ from run to run, so we print what does not: every request answered, and
# the stall visible in the latencies measured from the intended send.

# %%
# NBVAL_IGNORE_OUTPUT: the real clock; on a machine slow enough to start the load after the stall, the last line would differ
import httpx

from coursekit.service.live import serve_live


async def live_load(url):
    async with httpx.AsyncClient(base_url=url) as client:

        async def get_item(i):
            return await client.get(f"/items/{i}")

        return await constant_rate(get_item, rate=50.0, count=50, connections=8)


if exercise_done("exercises 2 and 3", LatencyRecorder, constant_rate):
    live = StalledService(seed=2, faults=Faults(latency=Latency.fixed(0.005)), stalls=((0.2, 0.7),))
    with serve_live(live) as url:
        live_latencies = await live_load(url)
    live_recorder = LatencyRecorder(relative_error=0.01, lowest=1e-5, highest=60.0)
    for seconds in live_latencies:
        live_recorder.record(max(seconds, 1e-5))
    print("latencies recorded:", live_recorder.count, "- requests the server saw:", len(live.log))
    print("the p99, from the intended send, shows the stall (over 100 ms):", live_recorder.p99 > 0.1)

# %% [markdown]
# ## Summary
#
# | rule | what goes wrong without it | seen in |
# |---|---|---|
# | name the percentile method (nearest rank, or linear = type 7) | four "p90"s of the same ten values, from 30 to 250 ms | document 000 §6, section 2 |
# | no values: raise, or report `None`; never 0 | a crash (`ZeroDivisionError`), or "p99 = 0 ms" | document 000 §6, hdrh, section 3 |
# | compute the rank as `ceil(p * n / 100)` | `int(n * p / 100)` is one rank high; `p / 100 * n` rounds | exercise 1 |
# | long runs: count in log buckets, not a list | memory grows with the run; a bounded error is enough | section 4, exercise 2 |
# | time from the intended send | a closed loop records one slow request per stall, not all of them | document 000 §8, section 7, exercise 3 |
#
# Next: chapter 10, the layers together.

# %% [markdown]
# ## Check my work
#
# Every visible check of this chapter, exercise by exercise, without stopping at the first
# failure: which graded cells pass, their points, and the first failing property with its
# hint. It reads the notebook as last saved, so save first (Ctrl+S). Run it before you
# submit; the course home page shows its result. Grading runs these checks again, with
# hidden ones.

# %%
from coursekit import check_my_work

check_my_work("latency_statistics.ipynb")
