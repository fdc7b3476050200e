# %% [markdown]
# # Chapter 2 — Worker pools and concurrency limits
#
# Chapter 1 ran a fixed set of consumers on a queue. This chapter asks a sharper
# question: **how many things may run at once**, and how do you make sure of it? A
# database allows 20 connections, an API 10 parallel requests, a machine 8 cores: go
# over the limit and you get errors, or everything slows down.
#
# In this chapter you will:
#
# 1. limit concurrency with `asyncio.Semaphore`, and see why document 003 should not read
#    `semaphore._value` and why document 001's `RateLimiter` is not a rate limiter;
# 2. write `limited_map` (exercise 1), then **measure** document 003's four styles,
#    whose "performance" column is stars nobody measured;
# 3. check the production libraries **aiometer** and **anyio** with the same checks;
# 4. write a **worker pool** class with per-job results and errors, a graceful shutdown,
#    backpressure and cancellation (exercise 2), after watching a worker die silently;
# 5. write the heart of a **background task manager** with job status (exercise 3),
#    after catching document 004's manager running a job it had cancelled.
#
# *In flight* means: a call has started and has not yet returned, raised or been
# cancelled. A limit of 5 means at most 5 in flight at every instant.

# %% locked="ch02-setup"
# %matplotlib inline
import asyncio
from collections.abc import Awaitable, Callable, Iterable  # noqa: F401  (used by the solution cells)
from typing import Any, Self, TypeVar  # noqa: F401  (used by the solution cells)

from coursekit import STOP, CheckFailed, TracedQueue, exercise_done, reference_run, run_virtual  # noqa: F401  (STOP: used by the solution cells)
from coursekit.chapters.worker_pools import (  # noqa: F401  (used by the solution cells)
    LIMIT,
    BackgroundJobs,
    Job,
    JobStatus,
    Workload,
    check_limited_map,
    check_limited_map_cancelled,
    check_limited_map_failure,
    check_limited_map_reused,
    check_pool_backpressure,
    check_pool_cancel,
    check_pool_cancelled,
    check_pool_errors,
    check_pool_results,
    check_pool_reused,
    check_pool_shutdown,
    check_task_manager,
    limited_map_run,
    manager_run,
    peak_in_flight,
    pool_run,
    show_busy_timeline,
    show_in_flight,
    varied_durations,
)

T = TypeVar("T")
R = TypeVar("R")


# %% [markdown]
# ## 1. A Semaphore is a counter of free slots
#
# `asyncio.Semaphore(n)` holds `n` slots. `async with semaphore:` takes one (waiting if
# none is free) and gives it back when the block ends, even if the block raises.
# Wrapped around a call, it limits how many calls are in flight. Documents 000 (§3) and
# 001 (§2.5.3.2) wrap exactly this in a small class; here it is, run on the virtual clock
# with 12 one-second calls and 3 slots:


# %%
class ConcurrencyLimiter:
    def __init__(self, limit):
        self._semaphore = asyncio.Semaphore(limit)

    async def run(self, coroutine):
        async with self._semaphore:
            return await coroutine


async def twelve_calls(limit):
    limiter, work = ConcurrencyLimiter(limit), Workload(duration=1.0)
    return await asyncio.gather(*(limiter.run(work(i)) for i in range(12)))


run = run_virtual(twelve_calls(3))
print(f"peak in flight: {peak_in_flight(run.events)}, finished at t={run.elapsed:g} s")

# %% [markdown]
# Three at a time, four rounds, four seconds. Two remarks on this little class. It takes
# a *coroutine object*, created before the limiter is entered: with 10 000 items you
# hold 10 000 coroutine objects at once (cheap, but not free), and a coroutine that is
# never awaited, say because another one raised first, warns "never awaited". Passing
# the function and its argument instead (`limiter.run(func, item)`) avoids both.
#
# ### Bug hunt: `semaphore._value`
#
# Document 003 monitors its pool with `max_concurrent - semaphore._value`. The leading
# underscore means *private*: `_value` is not in the documentation, and nothing
# promises it will exist, or mean the same, in the next Python release. It also counts
# slots *held*, which is not always work in flight: a task that has finished its call
# but not yet left the `async with` still holds one. If you want the number, own it:
# count around the call, or use a limiter whose count is public, such as anyio's
# `CapacityLimiter.borrowed_tokens`:

# %%
import anyio


async def monitored(limit=3, n=7):
    limiter, work = anyio.CapacityLimiter(limit), Workload(duration=1.0)
    readings = []

    async def one(i):
        async with limiter:
            readings.append(
                f"t={asyncio.get_running_loop().time():g}: "
                f"{limiter.borrowed_tokens} borrowed, {limiter.available_tokens} free"
            )
            await work(i)

    await asyncio.gather(*(one(i) for i in range(n)))
    return readings


print("\n".join(run_virtual(monitored).unwrap()))


# %% [markdown]
# ### Bug hunt: a "rate limiter" that limits concurrency
#
# Document 001 calls its Semaphore wrapper `RateLimiter(max_concurrent=3)`. A **rate**
# limit bounds how many calls *start per unit of time* (3 per second); a
# **concurrency** limit bounds how many *run at once*. They coincide only when every
# call takes exactly one second. Make the calls fast and count the starts per second:


# %%
class RateLimiter:  # document 001's design, renamed nowhere
    def __init__(self, max_concurrent):
        self.semaphore = asyncio.Semaphore(max_concurrent)

    async def __aenter__(self):
        await self.semaphore.acquire()
        return self

    async def __aexit__(self, *args):
        self.semaphore.release()


async def fast_calls(call_time, n=60):
    limiter, work = RateLimiter(max_concurrent=3), Workload(duration=call_time)

    async def fetch(i):
        async with limiter:
            return await work(i)

    await asyncio.gather(*(fetch(i) for i in range(n)))


for call_time in (1.0, 0.05):
    run = run_virtual(fast_calls(call_time))
    starts = [event.time or 0.0 for event in run.of_kind("work.start")]
    busiest = max(sum(1 for s in starts if t <= s < t + 1.0) for t in starts)
    print(
        f"calls of {call_time:g} s: at most {busiest} calls started within one second "
        f"(peak {peak_in_flight(run.events)} in flight)"
    )

# %% [markdown]
# With 50 ms calls, "3" lets 60 calls through in one second. If an API allows 3
# requests per second, this limiter gets you throttled. Chapter 8 builds real rate
# limiters (token bucket, sliding window); here we stay with concurrency limits.

# %% [markdown] statement="ch02-ex1-statement"
# ## Exercise 1 — `limited_map` (3 points)
#
# Write `limited_map(func, items, limit)`:
#
# * return `[await func(item) for item in items]`: one result per item, **in the order
#   of the items** (not the order calls finish in); an item that appears twice is two
#   calls, and no items give `[]`;
# * run the calls concurrently, with **at most `limit` in flight** at any instant;
# * start a call **as soon as a slot is free**: no batches;
# * if a call raises, cancel every other call (running or waiting) at once and raise an
#   **`ExceptionGroup`** holding the error, leaving no task running. `asyncio.TaskGroup`
#   does exactly this;
# * `limit < 1` raises `ValueError` (with no slot, nothing could ever run);
# * if `limited_map` itself is cancelled, cancel every call it started (running or waiting
#   for a slot) and let `CancelledError` propagate: a `TaskGroup` does this too.
#
# The checks use calls of varying length (1 to 4 s), so batches are caught.

# %% solution="ch02-ex1-limited-map"
from solutions.worker_pools import limited_map

# %% tests="ch02-ex1-visible" points=1
check_limited_map(limited_map)

# %% tests="ch02-ex1-hidden" points=2
check_limited_map_failure(limited_map)
### BEGIN HIDDEN TESTS
check_limited_map(limited_map, items=list("abcdefghij"), limit=1, durations=(0.5, 2.0))
check_limited_map(limited_map, items=list(range(3)), limit=8)
check_limited_map(limited_map, items=list(range(40)), limit=7, durations=(0.1, 5.0, 0.3, 2.5, 1.0))
check_limited_map_failure(limited_map, items=list(range(20)), limit=5, failing={0, 13}, duration=0.5)
check_limited_map(limited_map, items=[3, 1, 3, 2, 1, 3], limit=2, durations=(4.0, 0.5, 1.0), start=5.5)
check_limited_map(limited_map, items=[], limit=3)
check_limited_map_failure(limited_map, items=list(range(6)), limit=2, failing={5}, duration=1.5, start=3.0)
check_limited_map_failure(limited_map, items=list(range(12)), limit=4, failing=set(range(0, 12, 2)), every_kind=True)
check_limited_map_cancelled(limited_map)
check_limited_map_reused(limited_map)
### END HIDDEN TESTS

# %% [markdown]
# ### Your `limited_map` in pictures
#
# The number of calls in flight over time, on 24 items of varying length, limit 5: your
# function on the left, the reference on the right. The line should touch the limit and
# stay there until the last items run out.

# %%
if exercise_done("exercise 1", limited_map):
    show_in_flight(
        {
            "your limited_map": limited_map_run(limited_map),
            "reference": reference_run("worker_pools", "limited_map_run"),
        },
        limit=LIMIT,
    )

# %% [markdown]
# ## 2. Document 003's four styles, measured
#
# Document 003 compares four ways to run tasks under a limit and rates their
# performance with stars (3, 4, 5 and 5). Nothing was measured. Let's write the first
# three styles (same signature as `limited_map`); the fourth, TaskGroup + Semaphore, is
# your `limited_map`. We run them on the same 40 items of varying length, limit 5, on
# the virtual clock. All four respect the limit; the question is how much of it they
# **use**.


# %% name="pool-styles"
async def style_task_set(func, items, limit):
    """v1: a hand-managed set; when it is full, wait for any one task to finish."""
    tasks: list[asyncio.Task] = []
    running: set[asyncio.Task] = set()
    for item in items:
        if len(running) >= limit:
            _, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        task = asyncio.create_task(func(item))
        tasks.append(task)
        running.add(task)
    await asyncio.wait(tasks)
    return [task.result() for task in tasks]


async def style_batches(func, items, limit):
    """v2: a Semaphore, and gather() over batches of `limit` items."""
    semaphore, items, results = asyncio.Semaphore(limit), list(items), []

    async def one(item):
        async with semaphore:
            return await func(item)

    for start in range(0, len(items), limit):
        results += await asyncio.gather(*(one(item) for item in items[start : start + limit]))
    return results


async def style_queue_workers(func, items, limit):
    """v3: `limit` workers on a queue (the WorkerPool of section 4, in miniature)."""
    queue: asyncio.Queue = asyncio.Queue()
    items = list(items)
    results = [None] * len(items)
    for entry in enumerate(items):
        queue.put_nowait(entry)

    async def worker():
        while not queue.empty():
            index, item = queue.get_nowait()
            results[index] = await func(item)

    async with asyncio.TaskGroup() as group:
        for _ in range(limit):
            group.create_task(worker())
    return results


# %%
STYLES = {  # each style, with document 003's stars for it
    "v1 task set": (style_task_set, "***"),
    "v2 Semaphore + batches": (style_batches, "****"),
    "v3 queue + workers": (style_queue_workers, "*****"),
}
if exercise_done("exercise 1", limited_map):
    STYLES["v4 TaskGroup + Semaphore"] = (limited_map, "*****")

durations = varied_durations(40, seed=7)
total = sum(durations)


def style_run(style):
    """`style` on the 40 items, limit 5, on the virtual clock."""
    work = Workload(lambda i: durations[i])
    return run_virtual(lambda: style(work, range(40), 5))


print(f"40 items, {total:g} s of work in all, limit 5: at best {total / 5:g} s\n")
print(f"{'style':<26}{'finished at':>12}{'slots used':>12}{'003 stars':>11}")
for name, (style, stars) in STYLES.items():
    run = style_run(style)
    print(f"{name:<26}{run.elapsed:>11g}s{total / (5 * run.elapsed):>12.0%}{stars:>11}")

# %% [markdown]
# Three styles finish together, close to the best possible; the one that came with four
# stars is the slowest by far. A batch waits for its **slowest member**: while one 4 s
# item finishes, the other four slots sit idle. The in-flight pictures make it plain:

# %%
if exercise_done("exercise 1", limited_map):
    show_in_flight(
        {"v2 Semaphore + batches": style_run(style_batches), "v4 TaskGroup + Semaphore": style_run(limited_map)},
        limit=5,
    )

# %% [markdown]
# What separates v1, v3 and v4 is not throughput but **cost per job** and **behaviour on
# errors**, which virtual time cannot show. `benchmarks/worker_pool_styles.py` measures
# the cost on the real event loop: 10 000 no-op jobs, limit 100, median of 7 runs. On
# the machine this course was built on (figures vary with the machine and its load;
# run it yourself):
#
# | style | µs per job |
# |---|---|
# | no limit, `gather` (baseline) | 6.1 |
# | v1 hand-managed task set | 4.0 |
# | v2 Semaphore + batches | 5.1 |
# | v3 queue + workers (`WorkerPool`) | 4.7 |
# | v4 TaskGroup + Semaphore (`limited_map`) | 7.5 |
# | `aiometer.run_all(max_at_once=...)` | 33.3 |
# | anyio `CapacityLimiter` + task group | 65.8 |
#
# All are a few microseconds per job: next to a network call of milliseconds, the
# machinery is noise, and the choice should rest on correctness and clarity. v1 must
# get everything right by hand (errors of finished tasks are easy to drop); v3 holds
# only `limit` tasks whatever the number of items, which matters for huge or endless
# inputs; v4 is the shortest and gets errors right for free.
#
# ## 3. The production libraries, through the same checks
#
# **aiometer** (`run_all`, `amap`, with `max_at_once`) and **anyio**
# (`CapacityLimiter`) are what people use. Adapted to `limited_map`'s signature, they go
# through the same check, on the same virtual clock:


# %% name="library-maps"
import functools

import aiometer


async def aiometer_map(func, items, limit):
    if limit < 1:
        raise ValueError(limit)
    return await aiometer.run_all([functools.partial(func, item) for item in items], max_at_once=limit)


async def anyio_map(func, items, limit):
    if limit < 1:
        raise ValueError(limit)
    limiter, items = anyio.CapacityLimiter(limit), list(items)
    results = [None] * len(items)

    async def one(index, item):
        async with limiter:
            results[index] = await func(item)

    async with anyio.create_task_group() as group:
        for index, item in enumerate(items):
            group.start_soon(one, index, item)
    return results


# %%
for name, mapper in [("aiometer.run_all", aiometer_map), ("anyio CapacityLimiter", anyio_map)]:
    print(f"--- {name}")
    check_limited_map(mapper)

# %% [markdown]
# Both pass: same limit, same order, no idle slot. (`limit < 1` is our own rule, hence
# the guard.) On a failure their semantics differ from a `TaskGroup`'s, and the check
# says how (its `scenario:` line names the call it ran, so you could run it again):

# %%
for name, mapper in [("aiometer.run_all", aiometer_map), ("anyio CapacityLimiter", anyio_map)]:
    print(f"--- {name}")
    try:
        check_limited_map_failure(mapper)
    except CheckFailed as failure:
        print(failure)


# %% [markdown]
# aiometer cancels the others too, but re-raises the **bare** exception rather than an
# `ExceptionGroup`: code that uses it catches `ItemFailed`, not `except*`. That is a
# documented choice, not a bug; the point is that "cancel siblings, then raise" has
# more than one shape, and your callers must know which one they get. Also note
# `aiometer.amap` yields results **as they complete**, not in input order.
#
# ## 4. Worker pools, and a worker that dies silently
#
# A worker pool keeps a fixed number of long-lived workers taking jobs from a queue: the
# number of tasks stays at `limit` however many jobs arrive, and jobs can be submitted
# while others run. Documents 001 and 004 both write one; document 003's third version
# wraps one in an async context manager. Here is 003's design, run on jobs where three
# of twelve fail:


# %%
async def doc003_pool(n_jobs=12, workers=3, failing=(2, 5, 8)):
    work = Workload(duration=1.0, failing=failing)
    queue: TracedQueue = TracedQueue()

    async def worker():
        while True:
            job = await queue.get()
            if job is None:
                break
            await work(job)  # an error here ends the worker
            queue.task_done()

    tasks = [asyncio.create_task(worker(), name=f"worker-{n}") for n in range(1, workers + 1)]
    for job in range(n_jobs):
        await queue.put(job)
    await queue.join()  # document 003's "graceful shutdown"
    for _ in tasks:
        await queue.put(None)
    await asyncio.gather(*tasks, return_exceptions=True)


run = run_virtual(doc003_pool, deadline=30)
print(run.diagnosis)

# %% [markdown]
# Each failing job killed its worker; after three failures no worker is left, the
# remaining jobs wait forever, and `join()` never returns. Nothing was printed when the
# workers died: an exception in a task nobody awaits is only reported when the task is
# garbage-collected, if ever (our virtual clock collected them for you above). And even
# when the pool does get to the end, `gather(..., return_exceptions=True)` turns the
# workers' deaths into return values that nobody reads. Document 004 lists this as
# production pitfall 2. Document 001's pool catches the error but only **prints** it:
# the caller never learns which job failed.
#
# The fix: the worker catches each job's `Exception` and hands it to **that job's
# caller**. Each job comes with an `asyncio.Future`, an awaitable box that the worker
# fills with `future.set_result(value)` or `future.set_exception(error)`; `submit`
# returns it, and `await future` gives the result or raises the job's error, in the
# caller's code, where it can be handled.
#
# A pool also needs an **end** and a **limit on its input**. Leaving the `async with`
# block normally should wait for every job already submitted: that is a graceful
# shutdown, and the classic way to tell a worker "no more jobs" is one end marker per
# worker, `STOP`, queued *after* the jobs (chapter 1). A producer faster than the workers
# should be slowed down rather than fill memory: a queue with a `maxsize` makes `put`
# wait while it is full, and that wait is **backpressure** (document 004, pitfall 1). And
# if the block using the pool *fails*, nobody will read the results: the pool should stop
# at once, cancel what is running, and let the error go on.


# %% [markdown] statement="ch02-ex2-statement"
# ## Exercise 2 — a worker pool (7 points)
#
# Write the methods of `WorkerPool`. Its constructor is given (you may add state to
# it); it keeps `self._handle`, the number of workers `self._size`, the job queue
# `self._queue` (created with the pool's `maxsize`), a list `self._workers` for the
# worker tasks and a flag `self._closed`. The pool is used like this:
#
# ```python
# async with WorkerPool(handle, workers=3, maxsize=10) as pool:
#     futures = [await pool.submit(item) for item in items]
# results = [future.result() for future in futures]  # leaving the block waited for every job
# ```
#
# * `__aenter__` starts `workers` tasks named `worker-1`, `worker-2`, ..., each running
#   `self._work()`, and returns the pool (given: `return self`).
# * `submit(item)` raises `RuntimeError` once the pool is closed; otherwise it creates a
#   future (`asyncio.get_running_loop().create_future()`), puts `(item, future)` in the
#   queue and returns the future (each call is a job of its own, even for an item
#   submitted before). `await self._queue.put(...)` waits while the queue is
#   full, so at most `maxsize` jobs wait to start (`maxsize=0`: no bound), and `submit`
#   waits for nothing else.
# * `_work()` is one worker: take entries from the queue until you take `STOP`, then
#   return. Each other entry is `(item, future)`. If `future.done()` already (its
#   submitter cancelled it while it waited), skip it without calling the handler.
#   Otherwise `await self._handle(item)` and settle the future: `future.set_result(result)`,
#   or `future.set_exception(error)` for an `Exception`, and **go on** with the next job.
#   If you are cancelled while running a job, cancel that job's future
#   (`future.cancel()`) and re-raise the cancellation.
# * `shutdown()` closes the pool, puts one `STOP` per worker (after the jobs already
#   queued) and returns once every worker has ended (`await asyncio.gather(*workers)`: a
#   worker that died re-raises its error here, so nothing dies silently). Calling it a
#   second time only waits.
# * `__aexit__(exc_type, ...)`: if the block ended normally (`exc_type is None`),
#   `await self.shutdown()`. If it raised, stop at once: close the pool, cancel every
#   worker and wait for them to end, then cancel the future of every job still in the
#   queue (`self._queue.empty()`, `self._queue.get_nowait()`; skip the `STOP`s). Return
#   `None`, so that the block's error propagates. A cancellation of the task running the
#   block is such an error too (`exc_type` is `asyncio.CancelledError`, a `BaseException`).
#
# The graded cells below check one behaviour each, with its own points: results (2),
# errors (1), shutdown (1), backpressure (1) and cancellation (2). When a check fails, its
# message names the scenario it ran (its `scenario:` line): run that call in a cell of your own to try again.

# %% solution="ch02-ex2-worker-pool"
from solutions.worker_pools import WorkerPool

# %% tests="ch02-ex2-results" points=2
check_pool_results(WorkerPool)
### BEGIN HIDDEN TESTS
check_pool_results(WorkerPool, items=list("abcdefg"), workers=1, durations=(0.5, 2.0))
check_pool_results(WorkerPool, items=[1, 2], workers=4)
check_pool_results(WorkerPool, items=list(range(30)), workers=6, durations=(0.1, 5.0, 0.3, 2.5, 1.0))
check_pool_results(WorkerPool, items=["x", "y", "x", "z", "x"], workers=2, durations=(4.0, 0.5))
check_pool_reused(WorkerPool)
### END HIDDEN TESTS

# %% tests="ch02-ex2-errors" points=1
check_pool_errors(WorkerPool)
### BEGIN HIDDEN TESTS
check_pool_errors(WorkerPool, items=list("abcdefg"), workers=1, failing={"a", "g"}, durations=(0.5,))
check_pool_errors(WorkerPool, items=list(range(30)), workers=6, failing=set(range(0, 30, 4)))
check_pool_errors(WorkerPool, items=["x", "y", "x", "y"], workers=3, failing={"y"}, durations=(1.0, 2.0, 0.5))
check_pool_errors(WorkerPool, items=list(range(14)), failing=set(range(0, 14, 2)), every_kind=True)
### END HIDDEN TESTS

# %% tests="ch02-ex2-shutdown" points=1
check_pool_shutdown(WorkerPool)
### BEGIN HIDDEN TESTS
check_pool_shutdown(WorkerPool, items=list(range(25)), workers=4, durations=(0.5, 3.0, 1.5))
check_pool_shutdown(WorkerPool, items=[], workers=3)
### END HIDDEN TESTS

# %% tests="ch02-ex2-backpressure" points=1
check_pool_backpressure(WorkerPool)
### BEGIN HIDDEN TESTS
check_pool_backpressure(WorkerPool, items=list(range(12)), workers=1, maxsize=1, durations=(1.0, 0.5))
check_pool_backpressure(WorkerPool, items=list(range(20)), workers=3, maxsize=5)
check_pool_backpressure(WorkerPool, items=list(range(10)), workers=2, maxsize=0)
### END HIDDEN TESTS

# %% tests="ch02-ex2-cancel" points=2
check_pool_cancel(WorkerPool)
### BEGIN HIDDEN TESTS
check_pool_cancel(WorkerPool, items=list(range(10)), workers=3, duration=1.0, cancel_queued=9, fail_at=0.5)
check_pool_cancel(WorkerPool, items=list("abcd"), workers=1, duration=3.0, cancel_queued="b", fail_at=0.0)
check_pool_cancel(WorkerPool, items=list(range(5)), workers=2, duration=1.5, cancel_queued=4, fail_at=2.0, start=9.5)
check_pool_cancelled(WorkerPool)
### END HIDDEN TESTS

# %% [markdown]
# ### Who was busy when
#
# One row per worker, one bar per job (red: the job failed; the worker went on). Your
# `WorkerPool` on the left, the reference on the right: 12 jobs of varying length, 3
# workers, jobs 4 and 9 failing.

# %%
if exercise_done("exercise 2", WorkerPool):
    show_busy_timeline(
        {"your WorkerPool": pool_run(WorkerPool), "reference": reference_run("worker_pools", "pool_run")}
    )


# %% [markdown]
# ## 5. A background task manager, and a cancelled job that runs anyway
#
# Document 004's `BackgroundTaskManager` gives each job a status (pending, running,
# completed, failed, cancelled) that a web API can report. Its `cancel_task` marks a
# pending job `CANCELLED`... and its worker, when it later takes that job from the
# queue, sets `RUNNING` and runs it anyway. Here is the essence of it:


# %%
async def doc004_manager():
    work, status = Workload(duration=1.0), {}
    queue: asyncio.Queue = asyncio.Queue()

    async def worker():
        while True:
            job = await queue.get()
            status[job] = "running"  # whatever the status was
            await work(job)
            status[job] = "completed"
            queue.task_done()

    for job in range(4):
        status[job] = "pending"
        queue.put_nowait(job)
    task = asyncio.create_task(worker())
    await asyncio.sleep(0.5)
    if status[3] == "pending":  # cancel_task(3)
        status[3] = "cancelled"
    print(f"t=0.5 s: job 3 cancelled, status {status[3]!r}")
    await queue.join()
    task.cancel()
    print(f"t={asyncio.get_running_loop().time():g} s: job 3 status {status[3]!r}, handled {work.calls[3]} time(s)")


run_virtual(doc004_manager).unwrap()

# %% [markdown]
# The user was told "cancelled", and the job ran: a charge made, an e-mail sent. Two
# more gaps: the manager cannot cancel a **running** job at all, and it keeps only
# `str(error)`, losing the exception's type. The course gives you a fixed structure,
# `BackgroundJobs` (in `coursekit/jobs.py`): `submit(item)` returns a pending `Job`,
# `cancel(job_id)` marks a pending job cancelled or cancels the task running it, and
# each job runs in a task of its own, so cancelling a job never kills its worker. Every
# status change goes through `Job.set_status`, which refuses any change outside the life
# cycle
#
# ```
# pending ──► running ──► done | failed | cancelled
#    └──────► cancelled
# ```
#
# by raising `InvalidTransition`, so a bug like document 004's cannot go unnoticed. The
# two methods that matter, as given:

# %%
import inspect

print(inspect.getsource(BackgroundJobs.cancel))
print(inspect.getsource(BackgroundJobs._work))


# %% [markdown] statement="ch02-ex3-statement"
# ## Exercise 3 — run one job and record its life (3 points)
#
# `TaskManager` is a `BackgroundJobs` whose `run_job(job)` is yours: each worker calls
# it for every job it takes, in a task of its own. Write it:
#
# * if `job.status` is no longer `JobStatus.PENDING` (it was cancelled while it
#   waited), return without calling the handler;
# * otherwise `job.set_status(JobStatus.RUNNING)`, then `await self.handle(job.item)`;
# * on success store the value in `job.result` and set `DONE`;
# * on an `Exception` store **the exception itself** in `job.error` and set `FAILED`;
#   do not raise it;
# * on cancellation (`asyncio.CancelledError`, which `except Exception` does not catch),
#   set `CANCELLED` and re-raise it.
#
# Use `job.set_status(...)`, never `job.status = ...`: it records the time of each change
# in `job.history` and enforces the life cycle.

# %% solution="ch02-ex3-task-manager"
from solutions.worker_pools import TaskManager

# %% tests="ch02-ex3-visible" points=1
check_task_manager(TaskManager)

# %% tests="ch02-ex3-hidden" points=2
check_task_manager(TaskManager, items=range(6), workers=1, failing={0}, duration=2.0, cancel_at=1.0, cancel=(1, 6))
### BEGIN HIDDEN TESTS
# fmt: off
check_task_manager(TaskManager, items=range(10), workers=3, failing={0, 9}, duration=0.7, cancel_at=1.0, cancel=(3, 9))
check_task_manager(TaskManager, items="xyz", workers=5, failing="y", duration=1.0, cancel_at=0.0, cancel=(1,))
check_task_manager(TaskManager, items=range(5), workers=2, failing={4}, duration=1.5, cancel_at=2.0, cancel=(3, 5), start=4.25)
check_task_manager(TaskManager, items=[], workers=2, failing=(), cancel=())
check_task_manager(TaskManager, items="abcdefg", workers=2, failing="abcdefg", cancel=(), every_kind=True)
check_task_manager(TaskManager, sweep=True)
# fmt: on
### END HIDDEN TESTS

# %% [markdown]
# ### The life of each job
#
# Eight jobs, two workers, job 4 failing; at t = 0.5 s job 2 (running) and job 7
# (pending) are cancelled. Each row is one job's history, your `TaskManager` first, then
# the reference:

# %%
if exercise_done("exercise 3", TaskManager):
    mine, reference = manager_run(TaskManager), reference_run("worker_pools", "manager_run")
    for label, run in [("your TaskManager", mine), ("reference", reference)]:
        print(f"--- {label}: {run.outcome}")
        for job_id, history in run.value or []:
            print(f"job {job_id}: " + " -> ".join(f"{status} (t={time:g})" for time, status in history))
    show_busy_timeline({"your TaskManager": mine, "reference": reference}, title="Jobs per worker (grey: cancelled)")


# %% [markdown]
# ## Summary
#
# | rule | what goes wrong without it | seen in |
# |---|---|---|
# | a call holds a slot for its whole duration | more in flight than the limit | — |
# | no batches: start as soon as a slot frees | idle slots while a batch waits for its slowest member | 003 v2 ("4 stars") |
# | count in flight yourself (or a public API) | `_value` is private and counts slots held | 003 |
# | concurrency limit ≠ rate limit | fast calls pass a "rate limit" at any rate | 001 `RateLimiter` |
# | results in input order | callers pair results with the wrong items | — |
# | a TaskGroup: first failure cancels the rest | `gather` leaves siblings running | — |
# | a worker catches each job's `Exception` | workers die silently; `join()` hangs | 003 v3, 004 pitfall 2 |
# | errors go to the job's caller (a future) | errors printed, or turned into strings | 001, 004 |
# | shutdown: one `STOP` per worker, after the jobs, then await the workers | jobs dropped, or workers left waiting | 003 v3 |
# | a bounded queue between submitter and workers | a fast producer fills memory (no backpressure) | 004 pitfall 1 |
# | a failing block stops the pool at once and propagates | results nobody reads; the error swallowed | — |
# | check status before running a job | a cancelled job runs anyway | 004 task manager |
# | `CancelledError` is re-raised | cancellation swallowed; futures never settled | — |
#
# Next: chapter 3 groups jobs into **batches** on purpose, flushed by size or by time.

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

check_my_work("worker_pools.ipynb")
