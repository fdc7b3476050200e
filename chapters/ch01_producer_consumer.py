# %% [markdown]
# # Chapter 1 — Producer/consumer
#
# Some parts of a program make work (read lines, list URLs, receive requests) and other
# parts do it (parse, download, answer). When the two run at different speeds, a
# **queue** between them lets each go at its own pace:
#
# ```
# producer 1 ──┐                        ┌──► consumer 1
# producer 2 ──┼──► [ bounded queue ] ──┼──► consumer 2
# producer 3 ──┘                        └──► consumer 3
# ```
#
# In this chapter you will:
#
# 1. see how `asyncio.Queue` applies **backpressure** when it is bounded, in pictures;
# 2. learn exactly when `queue.join()` returns, and why two of our source documents
#    wrote pipelines that **never finish**;
# 3. write a robust **consumer** (exercise 1), a **pipeline** with several producers and
#    consumers (exercise 2), and a service that **shuts down gracefully** (exercise 3);
# 4. compare with Go channels, and move CPU-heavy work to other processes.
#
# Everything time-related runs on the virtual clock from chapter 0: a pipeline that
# takes a simulated minute runs in a few milliseconds, and a pipeline that hangs is
# stopped and explained.

# %% locked="ch01-setup"
# %matplotlib inline
import asyncio
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Sequence  # noqa: F401  (your solutions' annotations)
from typing import Any  # noqa: F401  (your solutions' annotations)

from coursekit import STOP, TracedQueue, exercise_done, run_virtual
from coursekit.chapters.producer_consumer import (
    Workload,
    check_consumer,
    check_consumer_cancelled,
    check_run_pipeline,
    check_run_pipeline_cancelled,
    check_run_pipeline_reused,
    check_serve,
    check_serve_cancelled,
    check_serve_reused,
    show_busy_timeline,
    show_queue_depth,
)

# %% [markdown]
# ## 1. `asyncio.Queue` in four calls
#
# | call | what it does |
# |---|---|
# | `await queue.put(item)` | adds `item`; if the queue is **full** (`maxsize` items waiting), waits until there is room |
# | `item = await queue.get()` | takes the oldest item; if the queue is empty, waits for one |
# | `queue.task_done()` | says "I have finished with an item I took" |
# | `await queue.join()` | waits until **every item ever put** has been marked `task_done()` |
#
# The last two go together. The queue keeps a counter of *unfinished* items: each `put`
# adds one, each `task_done()` removes one, and `join()` returns when it reaches zero.
# Note what counts: **every** `put`, including a marker that tells a consumer to stop.
#
# We use `TracedQueue`, an `asyncio.Queue` that also reports what happens to it, so that
# we can draw it, and `STOP`, a marker object that means "no more items" (a dedicated
# object, because `None` might be a real item).
#
# Here is the smallest pipeline: one producer, one consumer. An item arrives every
# `every` seconds; handling one takes `work_time` seconds.


# %%
async def toy_pipeline(n_items, every, work_time, maxsize):
    queue = TracedQueue(maxsize)

    async def producer():
        for item in range(n_items):
            await asyncio.sleep(every)  # the next item arrives
            await queue.put(item)  # waits while the queue is full
        await queue.put(STOP)

    async def consumer():
        while await queue.get() is not STOP:
            await asyncio.sleep(work_time)  # handle the item

    await asyncio.gather(producer(), consumer())


runs = {
    "producer faster (maxsize 5)": run_virtual(toy_pipeline(30, every=0.1, work_time=0.3, maxsize=5)),
    "balanced (maxsize 5)": run_virtual(toy_pipeline(30, every=0.3, work_time=0.3, maxsize=5)),
    "producer faster, unbounded": run_virtual(toy_pipeline(30, every=0.1, work_time=0.3, maxsize=0)),
}
show_queue_depth(runs)


# %% [markdown]
# Read the three pictures from left to right:
#
# * **Producer faster, bounded.** The queue fills up to `maxsize` and stays there: every
#   further `put()` waits until the consumer takes an item. The producer is slowed to the
#   consumer's pace. That waiting is **backpressure**, and it is what you want: memory
#   stays bounded, and a slow stage slows down the stages before it instead of drowning.
# * **Balanced.** Items are taken about as fast as they come; the queue stays nearly empty.
# * **Unbounded.** Nothing slows the producer, so items pile up: here 21 of 30 wait at the
#   peak. With a producer that never ends, memory grows until the process dies. Document
#   004 lists this as its production pitfall 1; the fix is one argument: `maxsize`.
#
# All three runs end at the same time: the consumer is the bottleneck, and a queue
# cannot make it faster. What a bounded queue changes is where the waiting happens.

# %% [markdown]
# ## 2. Bug hunt: a `join()` that never returns
#
# Document 001 starts three consumers that share **one** stop marker. A consumer that
# takes the marker puts it back for the next one, then leaves. The main coroutine waits
# with `queue.join()`. It looks tidy. Here is the same design, written again so that we
# can run it:


# %%
async def shared_marker_pipeline(n_items=20, consumers=3):
    queue = TracedQueue(maxsize=10)

    async def consumer():
        while True:
            item = await queue.get()
            if item is STOP:
                await queue.put(STOP)  # "leave it for the others"
                break  # ... without task_done() for it
            await asyncio.sleep(0.2)
            queue.task_done()

    workers = [asyncio.create_task(consumer(), name=f"consumer-{n}") for n in range(1, consumers + 1)]
    for item in range(n_items):
        await queue.put(item)
        await asyncio.sleep(0.1)
    await queue.put(STOP)
    await queue.join()  # wait for all work to be done
    for worker in workers:
        worker.cancel()


run = run_virtual(shared_marker_pipeline, deadline=60)
print(run.outcome)
print(run.diagnosis)


# %% [markdown]
# The run never finished; after 60 simulated seconds the virtual clock gave up and
# reported what each task was waiting for. Count the `put`s: 20 items, the producer's
# `STOP`, and one more `STOP` from each of the 3 consumers that put it back: **24**.
# Count the `task_done()`s: one per real item, **20**. Four are missing, so the
# unfinished counter never reaches zero and `join()` waits forever. (The last `STOP`
# is still sitting in the queue, too.)
#
# Document 004 has the same consumer but waits on a `TaskGroup` instead of `join()`, so
# it does finish; the rule it silently breaks still bites the moment anyone adds a
# `join()`. The robust design is simple:
#
# * **one `STOP` per consumer**, put after the last item (a queue is first-in, first-out,
#   so every consumer takes all the real items it can before its `STOP`);
# * **every `get()` is matched by exactly one `task_done()`**, the `STOP` included.
#
# ### A second bug: one failing item freezes the pipeline
#
# Document 000's consumer calls `task_done()` after the work, on the normal path only.
# If handling an item raises, the consumer task dies: the item is never marked done, and
# nobody notices (document 004 calls this a silent worker failure). Watch:


# %%
async def fragile_pipeline():
    queue = TracedQueue(maxsize=10)
    work = Workload(duration=1.0, failing={3})  # handling item 3 raises

    async def consumer():
        while (item := await queue.get()) is not STOP:
            await work(item)
            queue.task_done()  # skipped when work(item) raises
        queue.task_done()

    workers = [asyncio.create_task(consumer(), name=f"consumer-{n}") for n in (1, 2)]
    for item in range(6):
        await queue.put(item)
    for _ in workers:
        await queue.put(STOP)
    await queue.join()


run = run_virtual(fragile_pipeline, deadline=60)
print(run.diagnosis)

# %% [markdown]
# One consumer died on item 3 and took its `task_done()` with it; `join()` waits for an
# item that will never be finished (the second missing `task_done()` belongs to the
# `STOP` meant for the consumer that died: nobody will ever take it). The fix has two parts: catch the item's error so the
# consumer survives, and put `task_done()` in a **`finally:`** block so it runs whatever
# happens — an error, a `continue`, a `return`, or cancellation.
#
# Now it is your turn.

# %% [markdown] statement="ch01-ex1-statement"
# ## Exercise 1 — a consumer that always finishes its items (3 points)
#
# Write `consumer(queue, handle, results, failures)`:
#
# * take items from `queue` until you take `STOP`, then return;
# * for every other item, `await handle(item)`; store what it returns in
#   `results[item]`; if it raises an `Exception`, store the exception in
#   `failures[item]` and **go on** with the next item;
# * mark **every** item you take, `STOP` included, with `queue.task_done()` exactly
#   once, when you have **finished** with it (after `handle` returned or raised, so that
#   `queue.join()` means "every item was handled") — even if `handle` raises, and even
#   if your task is cancelled while handling;
# * an item may come more than once: handle it each time you take it;
# * never swallow cancellation: `except Exception` is right, `except BaseException` or
#   a bare `except:` is not (it would catch `CancelledError`);
# * put nothing back into the queue.
#
# The first test cell runs your consumer on the virtual clock and prints one `✓` per
# property that holds; the first property that fails stops it with what was observed
# and a hint.

# %% solution="ch01-ex1-consumer"
from solutions.producer_consumer import consumer

# %% tests="ch01-ex1-visible" points=1
check_consumer(consumer)

# %% tests="ch01-ex1-hidden" points=2
check_consumer(consumer, items=["a", "b"], failing=(), duration=3.0)
### BEGIN HIDDEN TESTS
check_consumer(consumer, items=list(range(10, 30)), failing={10, 12, 19, 29}, duration=0.25)
check_consumer(consumer, items=["x", "y", "x", "z", "x"], failing={"z"})
check_consumer(consumer, items=[], failing=())
check_consumer_cancelled(consumer)
check_consumer(consumer, items=list(range(10)), failing=set(range(7)), duration=0.5, every_kind=True)
check_consumer_cancelled(consumer, sweep=True)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Bug hunt: guessing when the work is done
#
# How does a pipeline know that it is finished? Document 004's multi-producer system
# starts a helper that *sleeps for an estimated time* and then sends the stop marker;
# the Go version in document 002 does the same with `time.Sleep(3 * time.Second)`
# before `close(ch)`. A guess is wrong in one direction or the other. Let's measure it:
# the pipeline below stops its consumers after a guessed delay.


# %%
async def guessing_pipeline(n_items, guess, consumers=3):
    queue = TracedQueue(maxsize=5)
    work = Workload(duration=0.5)

    async def consumer():
        while True:
            item = await queue.get()
            try:
                await work(item)
            finally:
                queue.task_done()

    async def producer():
        for item in range(n_items):
            await queue.put(item)

    workers = [asyncio.create_task(consumer()) for _ in range(consumers)]
    feeder = asyncio.create_task(producer())
    await asyncio.sleep(guess)  # "surely done by now"
    for task in [feeder, *workers]:
        task.cancel()
    return sum(work.completed.values())


print("items  guess   handled  lost  time wasted")
for n_items in (10, 30, 60):
    run = run_virtual(guessing_pipeline(n_items, guess=5.0))
    handled = run.unwrap()
    needed = n_items / 3 * 0.5
    print(f"{n_items:5}  {5.0:5}s  {handled:7}  {n_items - handled:4}  {max(0.0, 5.0 - needed):5.2f}s")

# %% [markdown]
# With 10 items the guess wastes over three seconds; with 60 it silently drops half the
# work. There is nothing to guess: **the producers know when they are done**. Wait for
# them, then put one `STOP` per consumer, then wait for the consumers. In Go the same
# rule reads: `close(ch)` after a `WaitGroup` for the *producers* says they are done,
# never after a sleep.
#
# ### The same pattern in Go, in brief
#
# | | Go | asyncio |
# |---|---|---|
# | buffer | `ch := make(chan int, 100)` | `queue = asyncio.Queue(maxsize=100)` |
# | send / receive | `ch <- v` / `v := <-ch` | `await queue.put(v)` / `v = await queue.get()` |
# | "no more items" | `close(ch)`; `for v := range ch` ends | one `STOP` per consumer (Python 3.13 adds `queue.shutdown()`) |
# | wait for workers | `sync.WaitGroup` | `asyncio.TaskGroup` |
# | wait for items handled | (none built in) | `task_done()` + `join()` |
#
# A closed Go channel wakes *every* receiver, which is why Go needs no per-consumer
# marker; asyncio's queue (before 3.13) has no such broadcast, hence one `STOP` each.

# %% [markdown] statement="ch01-ex2-statement"
# ## Exercise 2 — several producers, several consumers (4 points)
#
# Write `run_pipeline(sources, handle, *, consumers, maxsize)`:
#
# * create **one** queue with `TracedQueue(maxsize)` (bounded: producers must wait when
#   it is full);
# * start `consumers` consumers — your `consumer` from exercise 1 — as tasks named
#   `consumer-1`, `consumer-2`, …, sharing one `results` dict and one `failures` dict;
# * start one producer per source; each puts the items of its source, in order;
# * when **all** producers are done, put one `STOP` per consumer;
# * return `(results, failures)` once every consumer has finished;
# * if `run_pipeline` is cancelled, every task it started must be cancelled too.
#   Starting them in an `asyncio.TaskGroup` gives you that for free.
#
# No sleeps, no guesses: every wait in your code should be for something that will
# happen.

# %% solution="ch01-ex2-run-pipeline"
from solutions.producer_consumer import run_pipeline

# %% tests="ch01-ex2-visible" points=1
check_run_pipeline(run_pipeline)

# %% tests="ch01-ex2-hidden" points=3
check_run_pipeline(run_pipeline, sources=[range(30)], consumers=1, maxsize=2, duration=0.1)
### BEGIN HIDDEN TESTS
# fmt: off
check_run_pipeline(run_pipeline, sources=[[f'p{p}-{i}' for i in range(4)] for p in range(5)], consumers=4, maxsize=1, duration=0.5, failing={'p2-3', 'p4-0'})
check_run_pipeline(run_pipeline, sources=[[], range(3)], consumers=5, maxsize=10)
check_run_pipeline(run_pipeline, sources=[], consumers=2, maxsize=3)
check_run_pipeline(run_pipeline, sources=[['a', 'b', 'a'], ['b', 'c'], ['a']], consumers=2, maxsize=1, failing={'a'}, start=42.5)
check_run_pipeline(run_pipeline, sources=[range(6), range(10, 13)], consumers=3, maxsize=2, failing={0, 12}, start=7.25)
check_run_pipeline_cancelled(run_pipeline)
check_run_pipeline_cancelled(run_pipeline, sweep=True)
check_run_pipeline_reused(run_pipeline)
# fmt: on
### END HIDDEN TESTS

# %% [markdown]
# ### Your pipeline, in pictures
#
# The left column is your `run_pipeline`, the right one the reference solution, on the
# same workload: 16 items from two producers, 3 consumers, a queue of 4, one second per
# item, and item 5 failing (red).

# %%
from coursekit import reference_run
from coursekit.chapters.producer_consumer import pipeline_run

if exercise_done("exercises 1 and 2", consumer, run_pipeline):
    both = {
        "your run_pipeline": pipeline_run(run_pipeline),
        "reference": reference_run("producer_consumer", "pipeline_run"),
    }
    show_busy_timeline(both)
    show_queue_depth(both)

# %% [markdown]
# ## 4. Graceful shutdown
#
# A real service does not get a finite list of items; it reads from a stream that may
# never end, until someone tells it to stop (a signal, a deploy, a test). Stopping
# *gracefully* means three steps, in this order:
#
# 1. **stop the intake**: take no new item from the source;
# 2. **drain**: finish every item already taken — it was promised to someone;
# 3. **end the workers**: one `STOP` per consumer, and wait for them.
#
# Step 1 has a trap. A producer written as
# `async for item in source: if stop.is_set(): break` only looks at `stop` *after* the
# next item has arrived: it has already taken that item from the source, and then
# drops it. Instead, wait for **whichever comes first**, the next item or the stop
# request, and cancel the other:
#
# ```python
# next_item = asyncio.ensure_future(anext(items))
# await asyncio.wait({next_item, stop_requested}, return_when=asyncio.FIRST_COMPLETED)
# ```

# %% [markdown] statement="ch01-ex3-statement"
# ## Exercise 3 — a service that stops gracefully (3 points)
#
# Write `serve(source, handle, *, consumers, maxsize, stop)`:
#
# * `source` is an async iterable of items; `stop` is an `asyncio.Event`;
# * run `consumers` consumers (your `consumer`, as tasks named `consumer-1`, … as in
#   exercise 2) on a `TracedQueue(maxsize)`, and feed them the items of `source` until
#   the source ends **or** `stop` is set;
# * once `stop` is set, take **no** new item from `source` (cancel a pending wait for
#   the next one), but handle every item already taken;
# * then put one `STOP` per consumer, wait for the consumers, and return
#   `(results, failures)`;
# * a cancellation of `serve` itself is not a stop request: let `CancelledError` propagate.
#
# In the visible check, an item arrives every 0.5 s, handling one takes 1 s, and `stop`
# is set at t = 6.25 s; the hidden checks vary these (and start the clock elsewhere than 0).

# %% solution="ch01-ex3-serve"
from solutions.producer_consumer import serve

# %% tests="ch01-ex3-visible" points=1
check_serve(serve)

# %% tests="ch01-ex3-hidden" points=2
check_serve(serve, items=7, stop_at=None)
### BEGIN HIDDEN TESTS
check_serve(serve, every=0.1, stop_at=2.05, consumers=3, maxsize=5, duration=0.5)
check_serve(serve, every=2.0, stop_at=0.5, consumers=2, maxsize=2)
check_serve(serve, items=0, stop_at=None)
check_serve(serve, items=6, stop_at=None, consumers=4, maxsize=1, failing={0, 5}, start=30.5)
check_serve(serve, every=0.75, stop_at=4.0, consumers=1, maxsize=1, failing={0}, start=12.0)
check_serve_cancelled(serve)
check_serve_reused(serve)
### END HIDDEN TESTS

# %%
from coursekit.chapters.producer_consumer import serve_run

if exercise_done("exercises 1 and 3", consumer, serve):
    show_queue_depth(
        {"your serve": serve_run(serve), "reference": reference_run("producer_consumer", "serve_run")},
        title="Queue depth during a graceful shutdown",
        marks={"stop": 6.25},
    )

# %% [markdown]
# Here an item arrives every 0.25 s, twice as fast as two consumers handle them, so the
# queue fills up and backpressure holds the intake back. At t = 6.25 s the intake stops,
# and the queue drains to zero before `serve` returns.
#
# ## 5. When the work is CPU-bound: processes
#
# A queue of coroutines shares **one** thread. That is ideal while items mostly wait
# (network, disk), and useless when handling an item means computing: a coroutine that
# computes for a second blocks every other task for that second (chapter 0 showed the
# virtual clock stopping such code).
#
# Document 001 switches to `multiprocessing` for this, with a consumer loop of
# `while not (stop_event.is_set() and queue.empty())` and `queue.get(timeout=0.5)` inside
# a bare `except: continue`. Three problems: `empty()` on a multiprocessing queue is
# documented as unreliable (an item can be in flight between processes), the loop polls
# every half second instead of waiting, and the bare `except` also swallows real errors
# and Ctrl+C. The same rule as above fixes it: **one `STOP` per consumer process**, and a
# plain blocking `get()`.
#
# You can also keep the asyncio pipeline and send only the computing to a pool of
# processes: the consumer `await`s `loop.run_in_executor(pool, function, item)`, and the
# event loop stays free while the processes work. The function must be importable by
# the worker processes (not defined in the notebook), so we use
# `coursekit.workload.count_primes`. This cell runs on the real clock, with real processes:

# %%
from concurrent.futures import ProcessPoolExecutor

from coursekit.chapters.producer_consumer import count_primes


async def cpu_pipeline(limits, consumers=2):
    queue: asyncio.Queue[int] = asyncio.Queue(maxsize=4)
    loop = asyncio.get_running_loop()
    results = {}

    async def consumer(pool):
        while (limit := await queue.get()) is not STOP:
            try:
                results[limit] = await loop.run_in_executor(pool, count_primes, limit)
            finally:
                queue.task_done()
        queue.task_done()

    with ProcessPoolExecutor(max_workers=consumers) as pool:
        async with asyncio.TaskGroup() as group:
            for _ in range(consumers):
                group.create_task(consumer(pool))
            for limit in limits:
                await queue.put(limit)
            for _ in range(consumers):
                await queue.put(STOP)
    return results


results = await cpu_pipeline([10_000, 20_000, 50_000, 100_000])
for limit, count in sorted(results.items()):
    print(f"{count:6} primes below {limit}")

# %% [markdown]
# ## Summary
#
# | rule | what goes wrong without it | seen in |
# |---|---|---|
# | bound the queue (`maxsize`) | memory grows without limit when producers are faster | 004, pitfall 1 |
# | one `STOP` per consumer | re-put markers break `join()`; a single marker leaves consumers waiting forever | 001, 004 |
# | `task_done()` in `finally`, for every `get()` | one failing item makes `join()` hang | 000, 001 |
# | catch the item's `Exception`, not `BaseException` | a worker dies silently, or cannot be cancelled | 004, pitfall 2 |
# | wait for producers, never guess with `sleep` | items lost or time wasted | 004, 002 (Go) |
# | start tasks in a `TaskGroup` | cancelled pipelines leave orphan tasks running | — |
# | stop intake first, then drain, then end workers | items taken from the source are lost on shutdown | — |
#
# Next: chapter 2 turns the consumers into a reusable **worker pool** and looks at
# concurrency limits.

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

check_my_work("producer_consumer.ipynb")
