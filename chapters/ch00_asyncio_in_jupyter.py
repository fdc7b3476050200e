# %% [markdown]
# # Chapter 0 — asyncio in Jupyter, and how checks and grading work
#
# This short chapter gets you ready for the rest of the course. You will:
#
# 1. see why `asyncio.run()` fails in a notebook, and what to write instead;
# 2. meet coroutines, tasks, `await`, `gather` and `TaskGroup`;
# 3. run async code on a **virtual clock**, so that 30 seconds of sleeping take no time at all,
#    and a program that hangs is stopped and explained instead of freezing your notebook;
# 4. see the **events** that course code records, and draw a picture from them;
# 5. learn how the **checks** after each exercise work;
# 6. solve two small graded exercises;
# 7. learn how your work is **graded**.
#
# Run the cells from top to bottom (**Run → Run All Cells** works too).

# %% [markdown]
# ## 1. `asyncio.run()` does not work here — use `await`
#
# In a Python script, an async program starts with `asyncio.run(main())`: it creates an
# *event loop*, runs `main()` on it until it finishes, and closes the loop.
#
# A Jupyter kernel is different: it is itself an asyncio program, and its event loop is
# already running while your cell runs. `asyncio.run()` refuses to start a second loop
# inside a running one. Let's see the error (we catch it, so the notebook keeps going):

# %%
import asyncio


async def hello():
    return "hello from a coroutine"


coro = hello()  # calling an async function only *creates* a coroutine object
try:
    asyncio.run(coro)
except RuntimeError as error:
    coro.close()  # it never ran; closing it avoids a "never awaited" warning
    print("RuntimeError:", error)

# %% [markdown]
# The fix is simple: in a notebook you may write `await` directly in a cell
# (*top-level await*). The cell's code then runs on the kernel's own loop:

# %%
await hello()


# %% [markdown]
# > In a `.py` file, top-level `await` is a syntax error; there you keep using
# > `asyncio.run(main())`. Everything else in this course works the same in both places.

# %% [markdown]
# ## 2. Coroutines, `await`, tasks
#
# * `async def f(): ...` defines a **coroutine function**. Calling `f()` runs nothing yet:
#   it returns a **coroutine**, a paused computation.
# * `await something` runs it until it has a result. While it waits (for example in
#   `await asyncio.sleep(1)`), the event loop runs *other* work. That is the whole trick
#   of asyncio: one thread, many tasks, each giving way at every `await`.


# %%
async def greet(name, delay):
    await asyncio.sleep(delay)  # a stand-in for waiting on the network
    return f"hello, {name}"


coro = greet("Ada", 0.01)
print(type(coro).__name__)  # nothing has run yet
print(await coro)  # now it runs, and we get its result

# %% [markdown]
# `await` on coroutines one after another runs them one after another. To run them at
# the same time, hand them to the loop together. `asyncio.gather` waits for all of them
# and returns their results **in the order you passed them**, whichever finished first:

# %%
results = await asyncio.gather(greet("Ada", 0.02), greet("Grace", 0.01))
print(results)  # Grace finished first, but comes second


# %% [markdown]
# A **task** wraps a coroutine and schedules it to run on its own, in the background.
# `asyncio.create_task(...)` returns at once; the task starts the next time your code
# gives the loop a chance — at its next `await`:


# %%
async def worker(log):
    log.append("worker: started")
    await asyncio.sleep(0.01)
    log.append("worker: finished")
    return 42


log: list[str] = []
task = asyncio.create_task(worker(log))
log.append("cell: task created (it has not run yet)")
result = await task  # the cell waits here; the worker runs
log.append(f"cell: the task returned {result}")
print(*log, sep="\n")


# %% [markdown]
# A task you create and forget can fail silently or outlive your code. The modern,
# safe way to run several tasks is a **`TaskGroup`** (Python 3.11+): the `async with`
# block does not end until every task in the group has finished, and if one task fails,
# the others are cancelled and the error is raised.


# %%
async def greet_both():
    async with asyncio.TaskGroup() as group:
        ada = group.create_task(greet("Ada", 0.02))
        grace = group.create_task(greet("Grace", 0.01))
    # here, both tasks are done
    print(ada.result(), "|", grace.result())


await greet_both()

# %% [markdown]
# ## 3. Virtual time: `run_virtual`
#
# The patterns in this course wait a lot: retry back-offs, timeouts, a circuit breaker
# that stays open for 30 seconds. Waiting for real would be slow, and real timings
# change a little on every run. So the course runs async code on a **virtual clock**.
#
# `run_virtual(main)` runs `main()` on a separate event loop whose clock starts at 0
# and *jumps* to the next timer whenever every task is waiting. Sleeping 30 simulated
# seconds costs no real time, and the numbers are the same on every run.
# It returns a `VirtualRun` describing what happened:

# %%
from coursekit import run_virtual


async def main():
    await asyncio.sleep(30)
    return "done"


run = run_virtual(main)  # pass the function itself (or a coroutine: main())
print(run.outcome, run.elapsed, run.value)


# %% [markdown]
# `run.outcome` is `"returned"`, `"raised"`, `"hung"` or `"blocked"`; `run.elapsed` is in
# simulated seconds; `run.value` is what `main` returned. To pass arguments, use a
# `lambda`. Virtual time makes it easy to *measure* concurrency:


# %%
async def one_after_another():
    await greet("Ada", 1)
    await greet("Grace", 2)


async def side_by_side():
    await asyncio.gather(greet("Ada", 1), greet("Grace", 2))


print("one after another:", run_virtual(one_after_another).elapsed, "simulated s")
print("side by side:     ", run_virtual(side_by_side).elapsed, "simulated s")
print("with arguments:   ", run_virtual(lambda: greet("Linus", 7)).value)


# %% [markdown]
# ### When code never finishes: `deadline` and `wall_limit`
#
# `run_virtual` stops a run that would never end, with two limits:
#
# * **`deadline`** (default 60) is in **simulated** seconds. A program that is still
#   running then is stopped, and `run.diagnosis` says what each task was waiting for.
# * **`wall_limit`** (default 10) is in **real** seconds. It catches code that *blocks*
#   the thread, such as `time.sleep()` or a long loop with no `await`: while it runs,
#   nothing else can — not even the virtual clock.
#
# Here are two classic hangs. First, two tasks that each wait for the other:


# %%
async def deadlock():
    ping, pong = asyncio.Event(), asyncio.Event()

    async def alice():
        await pong.wait()  # alice waits for bob's signal ...
        ping.set()

    async def bob():
        await ping.wait()  # ... and bob waits for alice's
        pong.set()

    async with asyncio.TaskGroup() as group:
        group.create_task(alice(), name="alice")
        group.create_task(bob(), name="bob")


run = run_virtual(deadlock, deadline=10)
print(run.outcome)
print(run.diagnosis)


# %% [markdown]
# Second, a consumer waiting on a queue that nobody feeds:


# %%
async def lonely_consumer():
    queue: asyncio.Queue[str] = asyncio.Queue()
    return await queue.get()  # nobody ever puts anything


run = run_virtual(lonely_consumer, deadline=5)
print(run.outcome)
print(run.diagnosis)

# %% [markdown]
# And code that blocks the event loop with `time.sleep` (the async way is
# `await asyncio.sleep`). With `wall_limit=1` it is interrupted after one real second:

# %%
import time


async def impatient():
    # time.sleep blocks the whole thread: no await, so no other task and no clock
    time.sleep(5)
    return "too late"


run = run_virtual(impatient, wall_limit=1)
print(run.outcome)
print(run.diagnosis)

# %% [markdown]
# ## 4. Events: how the pictures are made
#
# The course's code never prints or plots. Instead it **emits events** with
# `emit(kind, **fields)`: small records saying *what* happened, *when* (in virtual
# seconds) and *in which task*. `run_virtual` collects them in `run.events`, and the
# checks and pictures are built from those events.
#
# `TracedQueue` is an `asyncio.Queue` that emits an event on every `put` and `get`,
# with the queue's `depth` (items waiting) right after. `STOP` is the course's
# end-of-stream marker. Here a producer adds a job every 0.5 s, but the consumer needs
# 1 s per job, so the queue fills up:

# %%
from coursekit import STOP, TracedQueue, emit


async def pipeline():
    queue = TracedQueue(name="jobs")

    async def producer():
        for job in range(5):
            await queue.put(job)
            await asyncio.sleep(0.5)  # a new job every 0.5 s
        await queue.put(STOP)

    async def consumer():
        while (job := await queue.get()) is not STOP:
            emit("job.start", job=job)  # our own event
            await asyncio.sleep(1.0)  # each job takes 1 s

    async with asyncio.TaskGroup() as group:
        group.create_task(producer(), name="producer")
        group.create_task(consumer(), name="consumer")


run = run_virtual(pipeline)
print(run)
for event in run.events[:8]:
    depth = event.fields.get("depth", "-")
    print(f"t={event.time:3.1f}  {event.kind:<10} {event.task:<9} depth={depth}")

# %% [markdown]
# With plain matplotlib, the queue's depth over virtual time is a step plot of the
# `queue.put` / `queue.get` events (the `STOP` marker counts as an item too):

# %%
# %matplotlib inline
import matplotlib.pyplot as plt

depth_at = {0.0: 0}
for event in run.of_kind("queue.put", "queue.get"):
    assert event.time is not None  # always set inside run_virtual (None only outside a loop)
    depth_at[event.time] = event["depth"]  # several events at one time: the last one counts
times, depths = list(depth_at), list(depth_at.values())

fig, ax = plt.subplots(figsize=(7, 3))
ax.step(times, depths, where="post")
ax.set_xlabel("virtual time (s)")
ax.set_ylabel("items in the queue")
ax.set_title("Queue depth: the producer is faster than the consumer")
ax.set_yticks(range(max(depths) + 1))
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# ## 5. How checks work
#
# After each exercise, a **check** tests your code. A check is a **chain** of
# properties, tested in order:
#
# 1. **defined** — the function exists and is an `async def`;
# 2. **runs / terminates** — it finishes within the deadline, without blocking or raising;
# 3. **correct** — it returns the right thing;
# 4. **limits** — it respects timing, concurrency or cleanup rules.
#
# Each property that holds prints a `✓` line. The **first** property that fails stops the
# chain with a `CheckFailed` error that says three things: the **property**, what was
# **observed**, and a **hint**. One mistake gives you one message, not ten.
#
# Here is a small check: "both greetings together take 2 simulated seconds".

# %%
from coursekit import Chain, CheckFailed


def check_greetings(candidate):
    name = candidate.__name__
    chain = Chain(name)
    chain.require_async_function(candidate, name)  # defined
    run = run_virtual(candidate, deadline=10, wall_limit=2)
    chain.require_finished(run, name)  # runs, terminates
    chain.require(
        run.elapsed == 2,
        "both greetings take 2 s together (the longer one)",
        observed=f"they took {run.elapsed:g} simulated seconds",
        hint="start both before awaiting either: gather() or a TaskGroup",
    )


check_greetings(side_by_side)

# %% [markdown]
# In a test cell, a failing check is an error, and the test fails. Here we catch it to
# read the message:

# %%
for candidate in (one_after_another, deadlock):
    try:
        check_greetings(candidate)
    except CheckFailed as failure:
        print(failure)
    print()

# %% [markdown]
# ## 6. Exercises
#
# Each exercise has a cell for your code, marked `# YOUR CODE HERE`: replace the
# `raise NotImplementedError()` line with your solution. After it come test cells:
# run them to check your work. Test cells are read-only — don't change them.
#
# The test cells call the chapter's checks; the next cell imports them (run it first).

# %% locked="ch00-checks"
from coursekit.chapters.asyncio_in_jupyter import check_countdown, check_fetch_all

# %% [markdown] statement="ch00-countdown-task"
# ### Exercise A: `countdown` (3 points)
#
# Write `async def countdown(n, delay)` that "ticks" `n`, `n - 1`, …, `1`, sleeping
# `delay` seconds (with `asyncio.sleep`) **between** ticks, and returns the list of the
# times at which it ticked.
#
# * Read the time with `round(asyncio.get_running_loop().time(), 3)`.
# * The first tick is immediate, and there is no sleep after the last one.
#   So `countdown(3, 1)` started at time 0 returns `[0.0, 1.0, 2.0]` after 2 seconds.
# * `countdown(0, delay)` ticks never: it returns `[]` at once.
# * If it is cancelled while it sleeps, let the `CancelledError` propagate: do not catch it.
# %% solution="ch00-countdown"
from solutions.asyncio_in_jupyter import countdown

# %% tests="ch00-countdown-tests" points=1
# Visible test: countdown(3, 1). Run this cell to check your work.
check_countdown(countdown)

# %% tests="ch00-countdown-hidden-tests" points=2
# One tick means no sleep at all.
check_countdown(countdown, n=1, delay=5)
### BEGIN HIDDEN TESTS
check_countdown(countdown, n=0, delay=2.5)
check_countdown(countdown, n=4, delay=2.5)
check_countdown(countdown, n=2, delay=0.75, start=8.0)
check_countdown(countdown, n=3, delay=1 / 3, start=100.25)
# cancelled in each of its sleeps
check_countdown(countdown, cancel_each_wait=True)
check_countdown(countdown, n=4, delay=2.5, cancel_each_wait=True)
### END HIDDEN TESTS

# %% [markdown] statement="ch00-fetch-all-task"
# ### Exercise B: `fetch_all` (3 points)
#
# Pretend each number in `delays` is the time one web request takes. Write
# `async def fetch_all(delays)` that "fetches" them all **concurrently** — one
# `asyncio.sleep(d)` per delay, all running at the same time (use a `TaskGroup` or
# `asyncio.gather`) — and returns how long the whole thing took in loop time, rounded
# to 3 decimals.
#
# * Concurrent means the total is the **longest** delay, not the sum:
#   `fetch_all([1, 2, 3])` returns `3.0`, not `6.0`.
# * `fetch_all([])` returns `0.0`.
# * Every sleep must have finished when `fetch_all` returns.
# * If it is cancelled, let the `CancelledError` propagate: do not catch it.

# %% solution="ch00-fetch-all"
from solutions.asyncio_in_jupyter import fetch_all

# %% tests="ch00-fetch-all-tests" points=1
# Visible test: fetch_all([1, 2, 3]). Run this cell to check your work.
check_fetch_all(fetch_all)

# %% tests="ch00-fetch-all-hidden-tests" points=2
# A single delay.
check_fetch_all(fetch_all, delays=[2.5])
### BEGIN HIDDEN TESTS
check_fetch_all(fetch_all, delays=[])
check_fetch_all(fetch_all, delays=[0.5, 2.5, 1.0, 2.5])
check_fetch_all(fetch_all, delays=[i / 10 for i in range(1, 101)])
check_fetch_all(fetch_all, delays=[3, 1, 2], start=12.5)
check_fetch_all(fetch_all, delays=[1 / 3, 0.25], start=7.5)
# cancelled while its sleeps run
check_fetch_all(fetch_all, cancel_each_wait=True)
check_fetch_all(fetch_all, delays=[0.5, 2.5, 1.0, 2.5], cancel_each_wait=True)
### END HIDDEN TESTS

# %% [markdown]
# ## 7. How grading works
#
# * **This notebook has two versions.** The one you get (the *release*) has
#   `# YOUR CODE HERE` / `raise NotImplementedError()` where your solutions go.
#   Until you replace that line, the tests fail.
# * **Visible tests** are the checks you can see and run yourself. **Hidden tests** are
#   extra cases that the release version does not contain (the second test cell of each
#   exercise says where they go); only the autograder runs them. Each exercise's points
#   are split over its test cells (here: 1 for the first, 2 for the second, which holds
#   the hidden cases). Passing the visible tests is a good sign, not a guarantee: write
#   code that follows the task's description, not just the examples.
# * **Submitting.** When you submit a chapter, the autograder restarts a fresh kernel,
#   puts back the original test cells (hidden tests included), and runs your notebook from
#   top to bottom. A test cell scores its points if it runs without an error; you get your
#   score and feedback that shows each failed check's message.
# * **Don't edit or delete test cells.** They are locked, and the autograder uses its own
#   copy of them anyway, so edits have no effect — except to confuse you.
# * **Any output on stderr fails a test cell**, even if nothing raised: a warning such as
#   "coroutine ... was never awaited" or "Task exception was never retrieved" counts. Await
#   every coroutine you create, and let a `TaskGroup` look after your tasks.
# * Before you submit: **Kernel → Restart Kernel and Run All Cells**, and check that
#   every cell runs. Code that only worked because of a cell you later deleted will fail
#   in the autograder's fresh kernel.

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

check_my_work("asyncio_in_jupyter.ipynb")
