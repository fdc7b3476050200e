# %% [markdown]
# # Chapter 3 — Batching
#
# Many services are much cheaper per item when you send them many items at once: one
# SQL `INSERT` with 100 rows instead of 100 `INSERT`s, one call to a model with a batch of
# inputs, one HTTP request to a bulk endpoint. Each call has a fixed cost (a round trip,
# a transaction, a GPU launch), and batching pays it once for many items.
#
# But the items rarely arrive together: they come one at a time, from many concurrent
# callers, each of which wants *its own* answer. A **micro-batcher** sits between them:
#
# ```
# caller 1 ── submit(a) ──┐                                ┌──► a's result to caller 1
# caller 2 ── submit(b) ──┼──► [ inbox ] ──► batch [a,b,c] ─┼──► b's result to caller 2
# caller 3 ── submit(c) ──┘        handler([a, b, c]) ──►  └──► c's result to caller 3
# ```
#
# Two knobs decide when a batch goes to the handler — **whichever comes first**:
#
# * `batch_size`: the batch is full;
# * `max_wait`: the batch's **first** item has waited this long. Without it, an item that
#   arrives when traffic is quiet would wait for company that never comes.
#
# In this chapter you will see these rules in pictures, hunt three bugs in the batcher of
# document 000 (it hangs, it serialises everything behind a slow handler, and it loses
# every caller of a failing batch), then build a correct batcher: its two parts as
# functions (exercises 1–2) and the `MicroBatcher` class around them (exercise 3). Last,
# a chunked batch processor with bounded concurrency (exercise 4), the pattern of
# document 004.

# %% locked="ch03-setup"
from __future__ import annotations  # so that the annotations of a class may name the class itself

# %matplotlib inline
import asyncio
from collections.abc import Sequence  # noqa: F401  (used by the learner's solution cells)
from types import TracebackType  # noqa: F401  (used by the learner's solution cells)
from typing import Any  # noqa: F401  (used by the learner's solution cells)

from coursekit import STOP, exercise_done, reference_run, run_virtual  # noqa: F401  (STOP: used by the learner's solution cells)
from coursekit.chapters.batching import (  # noqa: F401  (Entry, BatchHandler: solution cells)
    LOCK_DEMO_ARRIVALS,
    BatchHandler,
    BatchWorkload,
    Entry,
    Workload,
    caller_reports,
    check_batcher_close,
    check_batcher_failures,
    check_batcher_flushes,
    check_batcher_results,
    check_batcher_slow_handler,
    check_collect_batch,
    check_deliver,
    check_process_in_chunks,
    chunks_run,
    serve,
    show_batch_tradeoff,
    show_batches,
    show_in_flight,
    slow_handler_run,
)

# %% [markdown]
# ## 1. The rule, in pictures
#
# Our stand-in for a batch API is `BatchWorkload`: `await work(items)` takes some simulated
# time for the whole list and returns one result per item, `("done", item)`. Below, a
# working micro-batcher (the reference; you will write your own in exercise 3) serves
# callers that each submit one item, with `batch_size=5` and `max_wait=0.5` s, for three
# arrival patterns:
#
# * **steady**: one item every 0.15 s — the batch never fills in time, so `max_wait` closes it;
# * **bursts**: groups of 7 items close together — full batches of 5, then the 2 left over
#   wait for `max_wait`;
# * **quiet**: an item now and then — small batches, each sent when `max_wait` runs out.
#
# (These runs were recorded from the reference when the course was built; `reference_run`
# loads them.)

# %%
show_batches(
    {name: reference_run("batching", f"{name}_run") for name in ("steady", "bursts", "quiet")},
    batch_size=5,
    max_wait=0.5,
)


# %% [markdown]
# Top row: one bar per handler call, as tall as the batch (green when full). Bottom row: for
# each item, how long it waited between `submit` and the moment its batch went to the
# handler. No dot is above the red line: **no item waits more than `max_wait` for its
# batch.** The first item of a batch waits the longest; in a full batch, the last item
# waits not at all.
#
# Precisely, the rule this chapter implements (and the checks test) is:
#
# * a batch starts with the first item that arrives while no batch is open;
# * it is handed to the handler when it holds `batch_size` items, or at `t_first + max_wait`
#   where `t_first` is when its **first** item arrived — whichever comes first;
# * items arriving before `t_first + max_wait` join it; later ones start the next batch
#   (an item arriving at exactly that instant may land in either; the checks never test it);
# * when the batcher is closed, the open batch is handed over at once.
#
# ## 2. Bug hunt: document 000's `BatchProcessor`
#
# Document 000 has a `BatchProcessor(handler, batch_size=100, max_wait=0.1)` whose
# `process(item)` appends `(item, future)` to a list under a lock, calls `_flush()` when the
# list reaches `batch_size`, and awaits the future. Here is the same design, written again
# so that we can run it. To play callers, `caller_reports(submit, arrivals)` (given, from
# `coursekit.chapters.batching.given`) starts one caller per `(item, time)`, each calling
# `await submit(item)` at its time, and returns what each one saw:


# %%
class DocBatchProcessor:  # the design of document 000, section 4
    def __init__(self, handler, batch_size=100, max_wait=0.1):
        self.handler = handler
        self.batch_size = batch_size
        self.max_wait = max_wait  # stored ... and never read again
        self._pending = []
        self._lock = asyncio.Lock()

    async def process(self, item):
        future = asyncio.get_running_loop().create_future()
        async with self._lock:
            self._pending.append((item, future))
            if len(self._pending) >= self.batch_size:
                await self._flush()  # the handler runs while the lock is held
        return await future

    async def _flush(self):
        items = [item for item, _ in self._pending]
        futures = [future for _, future in self._pending]
        self._pending.clear()
        results = await self.handler(items)  # if this raises, no future is resolved
        for future, result in zip(futures, results):  # noqa: B905  (document 000's code, as written)
            future.set_result(result)


# %% [markdown]
# ### Flaw 1: `max_wait` is never used
#
# Seven callers, `batch_size=5`. The first five make a full batch. The last two wait for
# three more items that never come:

# %%
run = run_virtual(
    lambda: caller_reports(
        DocBatchProcessor(BatchWorkload(0.5), batch_size=5, max_wait=0.1).process, [(n, n / 10) for n in range(7)]
    ),
    deadline=30,
)
print(run.outcome)
print(run.diagnosis)

# %% [markdown]
# The virtual clock gave up after 30 simulated seconds and shows who is stuck: callers 5
# and 6, each on a future nobody will ever complete. `max_wait=0.1` is stored in
# `__init__` and read nowhere: nothing ever flushes a partial batch. In production this
# is a request that hangs until some unrelated traffic happens to fill the batch — and the
# last requests before a quiet night hang until morning.
#
# A timer needs something that runs *while nobody calls `process`*. That is the first
# design change: **one background task owns the batching**. Callers only drop their
# item in an inbox and wait for their future; the background task waits on the inbox
# with a deadline.
#
# ### Flaw 2: the handler runs under the lock
#
# The handler is awaited inside `async with self._lock`. Every caller arriving meanwhile
# queues up on the lock — it cannot even add its item to the next batch. Six callers, one
# every 0.1 s, `batch_size=3`, a handler that takes 2 s; on the right, a batcher with the
# background-task design (`max_wait=0.5`):

# %%
doc = run_virtual(
    lambda: caller_reports(DocBatchProcessor(BatchWorkload(2.0), batch_size=3).process, LOCK_DEMO_ARRIVALS)
)
fixed = reference_run("batching", "lock_demo_run")  # the reference MicroBatcher, max_wait=0.5
for left, right in zip(doc.unwrap(), fixed.unwrap(), strict=True):
    print(f"{left:42} | {right}")

# %% [markdown]
# Callers 3–5 arrived at 0.3–0.5 s, but with document 000's design their batch could only
# form after the first handler call released the lock at 2.2 s: they waited almost twice
# as long. A batcher must never hold a lock (or anything else callers need) while the
# handler runs; better, it should not *wait* for the handler at all before starting the
# next batch: each batch is delivered in a task of its own.
#
# ### Flaw 3: a failing handler strands its callers
#
# If `self.handler(items)` raises inside `_flush`, the exception propagates into the
# `process()` call that happened to fill the batch — and the other callers' futures are
# never touched:

# %%
run = run_virtual(
    lambda: caller_reports(
        DocBatchProcessor(BatchWorkload(0.5, failing={2}), batch_size=5).process, [(n, n / 10) for n in range(5)]
    ),
    deadline=30,
)
print(run.outcome)
print(run.diagnosis)

# %% [markdown]
# Caller 4 filled the batch and got the error; callers 0–3 wait forever. The fix: whatever
# the handler does, **every future of the batch is resolved**: each with its own result, or
# all with the handler's exception. And only that batch's callers: a failure in one batch
# must not touch anyone else. (The same goes for a handler that returns the wrong number
# of results: `zip` would silently leave the last callers waiting.)
#
# ## 3. The design
#
# A correct batcher keeps document 000's interface — callers `await batcher.submit(item)`
# — and changes its insides:
#
# * `submit()` creates a future, puts `(item, future)` — an **entry** — into an **inbox**
#   (an `asyncio.Queue`) and awaits the future. Nothing else: no lock, no handler call.
# * One **background task** forms the batches: it takes entries from the inbox by the rule
#   (exercise 1, `collect_batch`) and hands each batch to a function that calls the
#   handler once and resolves every future, whatever the handler does (exercise 2,
#   `deliver`) — each batch in a task of its own, so a slow handler never holds up the
#   next batch.
# * `close()` puts `STOP` into the inbox: the background task hands over the batch it holds
#   and returns once every delivery is done. `abort()` stops at once.
#
# You write the two functions first, each checked on its own, then the class around them
# (exercise 3).

# %% [markdown] statement="ch03-ex1-statement"
# ## Exercise 1 — collect one batch (3 points)
#
# Write `collect_batch(inbox, batch_size, max_wait)`, which returns a list of entries:
#
# * wait for the first entry with **no** time limit (`await inbox.get()`);
# * then keep taking entries until the batch holds `batch_size` entries, or until
#   `max_wait` seconds have passed **since the first entry was taken**, whichever comes
#   first; the deadline is fixed once: `first + max_wait` on the loop's clock,
#   `asyncio.get_running_loop().time()`;
# * if you take `STOP`, stop at once and return the batch with `STOP` as its last element;
# * if you are cancelled (`abort()` cancels the batch loop while it collects), let the
#   `CancelledError` propagate and leave no task of yours running: catch only the deadline's
#   `TimeoutError`, and if you wait on a getter task (`asyncio.wait`), cancel it in a `finally:`.
#
# Useful: `async with asyncio.timeout_at(deadline):` around `await inbox.get()` raises
# `TimeoutError` at the deadline (an absolute time, unlike `asyncio.timeout(delay)`), and
# cancelling a `get()` never loses an entry.
#
# The check puts 10 entries into the inbox at fixed times and calls your function again
# each time it returns: first without `STOP` (the last partial batch must come out on its
# own), then with a `STOP` after the last entry. Hidden scenarios also cancel one call at each
# of its waits in turn.

# %% solution="ch03-ex1-collect-batch"
from solutions.batching import collect_batch

# %% tests="ch03-ex1-visible" points=1
check_collect_batch(collect_batch)

# %% tests="ch03-ex1-hidden" points=2
check_collect_batch(collect_batch, arrivals=[(0.0, "a"), (0.3, "b"), (2.0, "c")], batch_size=2, max_wait=1.0)
### BEGIN HIDDEN TESTS
# fmt: off
check_collect_batch(collect_batch, arrivals=[(3.35 + n * 7 / 100, n) for n in range(20)], batch_size=4, max_wait=0.25)
check_collect_batch(collect_batch, arrivals=[(4.5, "x"), (4.6, "x"), (4.7, "z")], batch_size=1, max_wait=2.0)
check_collect_batch(collect_batch, arrivals=[(2.5, 1), (2.6, 2), (2.7, 3)], batch_size=3, max_wait=0.5, stop_after=0.4)
check_collect_batch(collect_batch, arrivals=[(1.25, "a"), (1.5, "b")], batch_size=5, max_wait=0.5, stop_after=1.0)
check_collect_batch(collect_batch, arrivals=[(0.75, 1), (1.25, 2), (1.5, 3)], batch_size=2, max_wait=0.0, stop_after=0.1)
# STOP joins a partial batch
check_collect_batch(collect_batch, arrivals=[(0.1, 1), (0.2, 2), (1.2, 3), (1.3, 4), (1.4, 5)], batch_size=10, max_wait=1.05, stop_after=0.3)
# entries just before and just after first + max_wait
check_collect_batch(collect_batch, arrivals=[(1.0, 1), (1.45, 2), (1.55, 3), (2.0, 4)], batch_size=5, max_wait=0.5)
# cancelled while it waits: for the first entry, between entries, for its deadline
check_collect_batch(collect_batch, cancel_each_wait=True)
check_collect_batch(collect_batch, arrivals=[(0.5, 1), (0.7, 2), (3.0, 3)], batch_size=3, max_wait=1.0, cancel_each_wait=True)
# fmt: on
### END HIDDEN TESTS

# %% [markdown] statement="ch03-ex2-statement"
# ## Exercise 2 — deliver one batch, whatever the handler does (3 points)
#
# Write `deliver(batch, handler)`; `batch` is a list of entries `(item, future)`:
#
# * call `await handler(items)` **once**, with the batch's items in order;
# * if it returns one result per item, set the i-th result on the i-th future;
# * if it raises an `Exception`, set **that** exception on every future of the batch;
# * if it returns the wrong number of results (too few or too many), set a `ValueError` on
#   every future;
# * skip futures that are already done (a caller that gave up cancels its future);
# * never raise an `Exception` yourself: your caller is the batch loop, and an error
#   escaping from here reaches nobody who is waiting;
# * if you are cancelled (the batcher is being torn down), cancel the batch's futures and
#   let the `CancelledError` propagate.
#
# The check delivers six batches: one that succeeds, one whose handler raises, one whose
# handler returns a result too few and one a result too many, one in which a caller gave up,
# and one whose delivery is cancelled while the handler runs.

# %% solution="ch03-ex2-deliver"
from solutions.batching import deliver

# %% tests="ch03-ex2-visible" points=1
check_deliver(deliver)

# %% tests="ch03-ex2-hidden" points=2
check_deliver(
    deliver,
    ok=["a"],
    failing_batch=["b", "c"],
    failing="c",
    short=["d"],
    long=["e"],
    given_up=["f", "g"],
    gave_up=["f"],
    torn_down=["h"],
    duration=0.0,
)
### BEGIN HIDDEN TESTS
# fmt: off
# unsorted, repeated
check_deliver(deliver, ok=['c', 'a', 'b', 'a'], failing_batch=[30, 31, 32, 33], failing=30, short=[40, 41, 42, 43], long=[44], given_up=[50, 51], gave_up=[51, 31, 41], torn_down=[60, 61, 62], duration=2.5)
# large, failing last
check_deliver(deliver, ok=list(range(20)), failing_batch=[70, 71, 72], failing=72, short=[80, 81, 80], long=[90, 90], given_up=[95], gave_up=[95, 14], torn_down=[96, 96], duration=0.5)
# fmt: on
### END HIDDEN TESTS

# %% [markdown] statement="ch03-ex3-statement"
# ## Exercise 3 — the `MicroBatcher` class (10 points)
#
# Complete the four methods of `MicroBatcher` below; its constructor, `__aenter__` and
# `__aexit__` are given. The constructor stores `handler`, `batch_size` and `max_wait`,
# makes the inbox `self._inbox`, an empty set `self._waiting`, the flag `self._closed`, and
# starts the background task `self._loop_task`, named `"batch-loop"`, running
# `self._batch_loop()`.
#
# * `submit(item)`: if the batcher is closed (by `close()` or `abort()`), raise `RuntimeError`. Otherwise create a
#   future (`asyncio.get_running_loop().create_future()`), add it to `self._waiting`, put
#   `(item, future)` into the inbox and return `await future`; remove the future from
#   `self._waiting` whatever happens (`try`/`finally`). A future per call: two callers may
#   submit equal items.
# * `_batch_loop()`: repeatedly take a batch with your `collect_batch`; hand each batch
#   (without `STOP`) to your `deliver` **in a task of its own**, so that collecting the next
#   batch goes on while the handler works, and hold no lock around the handler. When a
#   batch ends with `STOP`, deliver what came before it (if anything), then return once
#   **every** delivery has finished. `async with asyncio.TaskGroup() as deliveries:` does
#   the waiting: leaving the block (by `return`, too) waits for every task started in it;
#   since `deliver` never raises, one failing batch cannot cancel the others.
# * `close()`: unless already closed, set `self._closed` and put `STOP` into the inbox; then
#   await the background task. Calling it twice is harmless: the second call, too, returns
#   only once every delivery has finished.
# * `abort()`: stop at once, without waiting for the handler: set `self._closed`, cancel the
#   background task (its TaskGroup cancels the deliveries) and wait for it to end
#   (`await asyncio.wait({self._loop_task})`), then cancel every future in
#   `self._waiting`: entries still in the inbox, or in the batch being collected, have no
#   delivery that would resolve them.
#
# Five checks, each worth 2 points, test one behaviour each (with more scenarios hidden):
# batches go to the handler when full or `max_wait` after their first item; each caller
# gets its own result; a failing handler fails exactly its batch's callers; `close()` and
# `abort()` leave nobody waiting; a slow handler does not delay the next batch. A failing
# check prints the scenario it ran, so that you can run it again in a cell of your own.

# %% solution="ch03-ex3-micro-batcher"
from solutions.batching import MicroBatcher

# %% tests="ch03-ex3-flushes" points=2
check_batcher_flushes(MicroBatcher)
### BEGIN HIDDEN TESTS
# fmt: off
check_batcher_flushes(MicroBatcher, arrivals=[(2.35 + n * 7 / 100, n) for n in range(20)], batch_size=4, max_wait=0.25)
check_batcher_flushes(MicroBatcher, arrivals=[(0.5, "x"), (0.6, "x"), (2.7, "z")], batch_size=1, max_wait=2.0)
check_batcher_flushes(MicroBatcher, arrivals=[(1.5, 1), (1.75, 2), (2.0, 3)], batch_size=3, max_wait=0.0)
check_batcher_flushes(MicroBatcher, arrivals=[(0.1, 1), (0.2, 2), (1.2, 3), (1.3, 4), (1.4, 5)], batch_size=10, max_wait=1.05)
# fmt: on
### END HIDDEN TESTS

# %% tests="ch03-ex3-results" points=2
check_batcher_results(MicroBatcher)
### BEGIN HIDDEN TESTS
# fmt: off
check_batcher_results(MicroBatcher, arrivals=[(1.3 + n / 20, n % 3) for n in range(12)], batch_size=5, max_wait=0.3, duration=0.7)
check_batcher_results(MicroBatcher, arrivals=[(0.0, "x"), (0.0, "x")], batch_size=1, max_wait=1.0, duration=2.0)
# fmt: on
### END HIDDEN TESTS

# %% tests="ch03-ex3-failures" points=2
check_batcher_failures(MicroBatcher)
### BEGIN HIDDEN TESTS
# fmt: off
# two failing batches among many
check_batcher_failures(MicroBatcher, arrivals=[(n / 10, n) for n in range(1, 25)], batch_size=4, max_wait=0.25, duration=0.8, failing={7, 18})
check_batcher_failures(MicroBatcher, arrivals=[(0.5, 1), (1.0, 2), (1.1, 3)], batch_size=1, max_wait=3.0, duration=5.0, failing={2})
# the first item of the first batch, the last of the last
check_batcher_failures(MicroBatcher, arrivals=[(3.0 + n / 10, n) for n in range(12)], batch_size=3, max_wait=0.5, duration=0.5, failing={0, 11})
# callers who give up: 2 and 7 while their entry is queued, 3 while the handler runs
check_batcher_failures(MicroBatcher, arrivals=[(n / 10, n) for n in range(1, 10)], batch_size=3, max_wait=0.5, duration=0.5, failing={5}, give_up={2, 3, 7})
# fmt: on
### END HIDDEN TESTS

# %% tests="ch03-ex3-close" points=2
check_batcher_close(MicroBatcher)
### BEGIN HIDDEN TESTS
# fmt: off
check_batcher_close(MicroBatcher, arrivals=[(0.2, 1), (0.3, 2)], batch_size=5, max_wait=1.0, duration=1.0, close_at=0.35, abort_at=0.35)
# close() when no batch is open
check_batcher_close(MicroBatcher, arrivals=[(n / 10, n) for n in range(10)], batch_size=4, max_wait=0.15, duration=0.5, close_at=2.0, abort_at=0.95)
check_batcher_close(MicroBatcher, arrivals=[], batch_size=2, max_wait=1.0, duration=1.0, close_at=0.5, abort_at=0.5)
# two calls running at close() and at abort()
check_batcher_close(MicroBatcher, arrivals=[(2.1, 'a'), (2.2, 'a'), (2.3, 'b'), (4.0, 'c')], batch_size=2, max_wait=1.0, duration=3.0, close_at=4.5, abort_at=4.5)
# fmt: on
### END HIDDEN TESTS

# %% tests="ch03-ex3-slow-handler" points=2
check_batcher_slow_handler(MicroBatcher)
### BEGIN HIDDEN TESTS
# fmt: off
check_batcher_slow_handler(MicroBatcher, arrivals=[(1.45 + n / 10, n) for n in range(12)], batch_size=2, max_wait=1.0, duration=0.9)
check_batcher_slow_handler(MicroBatcher, arrivals=[(0.0, 'a'), (0.6, 'b'), (1.2, 'c')], batch_size=5, max_wait=0.3, duration=4.0)
# fmt: on
### END HIDDEN TESTS

# %% [markdown]
# ### Your batcher, in pictures
#
# The same bursts as in section 1, now with a slow handler (1.5 s, longer than
# `max_wait`): on the left your `MicroBatcher`, on the right the reference. Every dot should
# stay under the red line, and the batches should not wait for the previous handler call.

# %%
if exercise_done("exercises 1, 2 and 3", collect_batch, deliver, MicroBatcher):
    show_batches(
        {
            "your MicroBatcher": slow_handler_run(MicroBatcher),
            "reference": reference_run("batching", "slow_handler_run"),
        },
        batch_size=5,
        max_wait=0.5,
    )

# %% [markdown]
# ## 4. Choosing `batch_size`: latency against throughput
#
# Why not always use huge batches? Because an item waits for its batch to fill. Why not
# batches of one? Because each call pays the fixed cost. The right size depends on how
# fast items arrive and what a call costs. Let us measure it, with your batcher: 300
# callers arrive at 100 per second; the backend serves **one call at a time** and a call
# costs 50 ms plus 2 ms per item; `max_wait` is 1 s.

# %%
steady_traffic = [(n / 100, n) for n in range(300)]


def sized_run(batch_size):
    backend = BatchWorkload(lambda items: 0.05 + 0.002 * len(items), connections=1)
    return run_virtual(serve(MicroBatcher, steady_traffic, backend, batch_size=batch_size, max_wait=1.0))


if exercise_done("exercises 1, 2 and 3", collect_batch, deliver, MicroBatcher):
    show_batch_tradeoff({size: sized_run(size) for size in (1, 2, 5, 10, 20, 50, 100, 200)})


# %% [markdown]
# * **Too small** (1, 2, 5): a call for one item costs 52 ms, so the backend manages about
#   19 items per second while 100 arrive: a backlog builds up and latency grows with every
#   item (the *mean* is over 6 s at `batch_size=1`). Batching here is not an optimisation;
#   it is what makes the service keep up at all.
# * **About right** (10–20): a batch fills in 0.1–0.2 s, a call takes 70–90 ms; the
#   backend keeps up and latency is lowest.
# * **Too large** (50 and up): the backend is idle most of the time, and items wait for
#   their batch to fill — or for `max_wait`, which caps the damage (200 behaves like 100:
#   after 1 s the batch goes anyway).
#
# Throughput stops growing once the backend keeps up: then it is simply the arrival rate.
# A good `batch_size` is the smallest one with which the backend keeps up with the peak
# load; `max_wait` is the latency you accept when traffic is light.

# %% [markdown]
# ## 5. Chunked batch processing: all the items are already here
#
# The other kind of batching in our documents is offline: you *have* 10 000 ids and want
# to fetch them in chunks of 100, a few chunks at a time. Document 004's "Batch
# Processing Pool" cuts the items into batches, and runs the batches under a
# `Semaphore(max_concurrent)`, each batch doing `asyncio.gather(processor(item) for item
# in batch)` — one call **per item**. Two consequences:
#
# * the limit counts batches, not calls: `max_concurrent=5` with `batch_size=10` means up
#   to 50 calls at once, which is what the service sees;
# * a batch holds its slot until its **slowest** item finishes, while its other nine slots
#   of work sit idle.
#
# Let us measure the second one: 100 items, 0.1 s each except every tenth item, which
# takes 2 s. Document 004's processor with batches of 10, three at a time, against a plain
# per-item limit of 30 (the same 30 calls in flight):


# %%
class DocChunkProcessor:  # the design of document 004, "Batch Processing Pool"
    def __init__(self, batch_size=10, max_concurrent=5):
        self.batch_size = batch_size
        self.semaphore = asyncio.Semaphore(max_concurrent)

    async def process_batch(self, items, processor):
        items = list(items)
        batches = [items[i : i + self.batch_size] for i in range(0, len(items), self.batch_size)]

        async def one_batch(batch):
            async with self.semaphore:
                return await asyncio.gather(*[processor(item) for item in batch])

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one_batch(batch)) for batch in batches]
        return [result for task in tasks for result in task.result()]


async def per_item_limit(items, processor, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(item):
        async with semaphore:
            return await processor(item)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(item)) for item in items]
    return [task.result() for task in tasks]


def slow_tenth(item):
    return 2.0 if item % 10 == 3 else 0.1


show_in_flight(
    {
        "document 004: batches of 10, 3 at a time": run_virtual(
            lambda: DocChunkProcessor(10, 3).process_batch(range(100), Workload(slow_tenth))
        ),
        "per-item limit of 30": run_virtual(lambda: per_item_limit(range(100), Workload(slow_tenth), 30)),
    },
    limit=30,
)

# %% [markdown]
# Same peak of 30 calls, but 8 s against 2.3 s: in document 004's version most slots are
# idle while each batch waits for its one slow item. (Its summary version,
# `for batch in batches: await asyncio.gather(...)`, is worse still: one batch at a time.)
#
# When the service really takes **lists** — a bulk endpoint, `executemany` — the unit of
# work is the chunk, and the handler is called once per chunk. Then the rule from chapter
# 2 applies to chunks: at most `concurrency` calls in flight, and a new chunk starts as
# soon as any call finishes — never in waves.

# %% [markdown] statement="ch03-ex4-statement"
# ## Exercise 4 — chunks with bounded concurrency (3 points)
#
# Write `process_in_chunks(items, handler, *, chunk_size, concurrency)`:
#
# * cut `items` into consecutive chunks of `chunk_size` (the last may be shorter) and call
#   `await handler(chunk)` once per chunk; it returns one result per item;
# * at most `concurrency` handler calls at once, and a new chunk starts as soon as a call
#   finishes (no waves: a wave waits for its slowest call); which chunk goes next is up to you;
# * return all results as one list, **in input order**, whatever order the calls finish in;
# * if a call raises, let the error propagate (an `ExceptionGroup` from a `TaskGroup` is
#   fine), start no further chunk, and leave no call running;
# * if you are cancelled, let the `CancelledError` propagate and leave no call running (a
#   `TaskGroup` does both; cleanup of your own goes in a `finally:`).
#
# The check uses 14 items in chunks of 3, `concurrency=2`; the first chunk takes 3 s and
# the others 1 s. Then it runs again with item 8's chunk failing. (Hidden scenarios also
# try no items at all, chunks larger than the work, and repeated items, and cancel a run at
# each of its waits in turn.)

# %% solution="ch03-ex4-process-in-chunks"
from solutions.batching import process_in_chunks

# %% tests="ch03-ex4-visible" points=1
check_process_in_chunks(process_in_chunks)

# %% tests="ch03-ex4-hidden" points=2
check_process_in_chunks(process_in_chunks, items=["a", "b", "c"], chunk_size=1, concurrency=3, slow=["b"], failing="c")
### BEGIN HIDDEN TESTS
# fmt: off
# slow chunks first and in the middle; the last item fails
check_process_in_chunks(process_in_chunks, items=list(range(40)), chunk_size=5, concurrency=3, slow=[0, 17, 24], slow_time=2.5, time=0.5, failing=39)
check_process_in_chunks(process_in_chunks, items=list(range(7)), chunk_size=10, concurrency=4, failing=0)
check_process_in_chunks(process_in_chunks, items=list(range(12)), chunk_size=2, concurrency=1, slow=[5], failing=11)
check_process_in_chunks(process_in_chunks, items=[], chunk_size=3, concurrency=2, failing=None)
check_process_in_chunks(process_in_chunks, items=['x', 'y', 'x', 'y', 'z'], chunk_size=2, concurrency=2, slow=['z'], failing='y')
# a chunk still queued when one fails; then cancelled at each of its waits
check_process_in_chunks(process_in_chunks, items=list(range(9)), chunk_size=1, concurrency=2, slow=[0], failing=2, cancel_each_wait=True)
check_process_in_chunks(process_in_chunks, cancel_each_wait=True)
# fmt: on
### END HIDDEN TESTS

# %% [markdown]
# ### Your chunks, in pictures
#
# Calls in flight over time, your `process_in_chunks` against the reference: 30 items in
# chunks of 3, at most 4 calls at once, every third chunk slow. The line should touch the
# limit and stay there until the chunks run out.

# %%
if exercise_done("exercise 4", process_in_chunks):
    show_in_flight(
        {"your process_in_chunks": chunks_run(process_in_chunks), "reference": reference_run("batching", "chunks_run")},
        limit=4,
    )

# %% [markdown]
# ### In production: `aiometer`
#
# `aiometer.run_all(jobs, max_at_once=n)` runs async jobs with at most `n` at once, starts
# each as soon as a slot frees, and returns the results in input order: exactly the
# scheduling of exercise 4. The same check passes on it:

# %%
import functools

import aiometer


async def process_with_aiometer(items, handler, *, chunk_size, concurrency):
    chunks = [list(items[i : i + chunk_size]) for i in range(0, len(items), chunk_size)]
    results = await aiometer.run_all([functools.partial(handler, chunk) for chunk in chunks], max_at_once=concurrency)
    return [result for chunk_results in results for result in chunk_results]


check_process_in_chunks(process_with_aiometer)

# %% [markdown]
# For micro-batching there is no single standard library; the same design appears in
# DataLoader libraries (`aiodataloader`: batch within one event-loop tick) and in model
# servers (batch size plus a maximum queue delay). Whatever you use, ask the three
# questions of section 2: does a partial batch flush on its own, can a slow handler hold
# up new batches, and does every caller hear back when the handler fails?
#
# ## Summary
#
# | rule | what goes wrong without it | seen in |
# |---|---|---|
# | flush at `batch_size` **or** `max_wait` after the first item, whichever first | a partial batch never flushes; its callers wait forever | 000 |
# | one background task forms batches; no lock around the handler | every caller queues behind a slow handler | 000 |
# | every future of a batch resolved: its result, or the handler's error | one failing batch strands all its callers | 000 |
# | check the number of results | `zip` silently leaves the last callers waiting | — |
# | deliver each batch in its own task, in a TaskGroup | close() returns before callers hear back, or a slow call delays the next batch | — |
# | limit the calls the service sees, start work as slots free | batches hold slots for their slowest item; waves waste time | 004 |
# | pick `batch_size` by measuring | too small: the backend cannot keep up; too large: items wait for company | — |
#
# Next: chapter 4, fan-out / fan-in.

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

check_my_work("batching.ipynb")
