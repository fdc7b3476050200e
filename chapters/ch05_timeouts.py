# %% [markdown]
# # Chapter 5 — Timeouts and cancellation
#
# Every call to something outside your program can take too long: a server that hangs, a
# lock held for ever, a network cable pulled out. A program that waits without a limit
# waits for ever. A **timeout** puts a limit on the wait; **cancellation** is how asyncio
# stops the work that ran out of time.
#
# Cancellation in asyncio is an exception, `CancelledError`, raised *inside* the task at
# the `await` where it is waiting. The task can clean up (close a connection, release a
# lock) in `except` or `finally` blocks, and then must let the exception go on. Almost
# every bug in this chapter breaks that one rule.
#
# In this chapter you will:
#
# 1. bound a wait with `asyncio.timeout`, and watch the cleanup run *before* the caller
#    hears about the timeout;
# 2. hunt the bug that makes a task immortal — a swallowed `CancelledError` — and see that
#    neither `asyncio.timeout` nor `wait_for` can save you from it;
# 3. see what `asyncio.shield` protects, and what it does not;
# 4. degrade gracefully: a fallback value when the answer is late (exercise 1);
# 5. pass one **deadline** down through nested calls, as Go's `context` and JavaScript's
#    `AbortController` do (exercise 2);
# 6. shut a service down gracefully: wait, then cancel, then wait for the cleanup
#    (exercise 3);
# 7. run your code against the course's HTTP service on a real socket, and compare with
#    the production library **anyio**.
#
# All timings below are on the virtual clock (chapter 0): a 30 s timeout costs no time,
# and every run gives the same numbers.

# %% locked="ch05-setup"
# %matplotlib inline
import asyncio
from collections.abc import Awaitable, Callable, Collection  # noqa: F401  (your solutions' annotations)
from typing import Any, Literal, Self, TypeVar  # noqa: F401  (Any, Self: your solutions' annotations)

from coursekit import exercise_done, run_virtual
from coursekit.chapters.timeouts import (
    Operation,
    check_call_with_fallback,
    check_call_with_fallback_cancelled,
    check_call_with_fallback_errors,
    check_deadline_child,
    check_deadline_clock,
    check_deadline_scope,
    check_shutdown,
    check_shutdown_nothing,
    check_shutdown_stubborn,
    show_busy_timeline,
)

T = TypeVar("T")
Outcome = Literal["finished", "failed", "cancelled"]

# %% [markdown]
# ## 1. `asyncio.timeout`: a limit on a block of code
#
# `async with asyncio.timeout(seconds):` (Python 3.11+) cancels the code inside the block
# if it is still running after `seconds`, and then raises `TimeoutError` where the block
# ends. Our stand-in for a slow call is an `Operation`: `await lookup()` takes 5 s, and
# when it is cancelled it spends 0.5 s cleaning up. It records what happens as events;
# let's print them in order:

# %%
lookup = Operation("lookup", 5.0, result="fresh", cleanup=0.5)


async def ask_with_timeout():
    try:
        async with asyncio.timeout(2.0):
            return await lookup()
    except TimeoutError:
        return "TimeoutError"


run = run_virtual(ask_with_timeout)
for event in run.events:
    print(f"t={event.time:<4g} {event.kind:<10} {dict(event.fields)}")
print(f"t={run.elapsed:<4g} the caller gets: {run.value}")

# %% [markdown]
# Read it from the top: at t = 2 the lookup is cancelled, its cleanup runs until t = 2.5,
# and only then does the caller see `TimeoutError`. That order is a promise: by the time
# you handle the timeout, the work you gave up on has finished cleaning up. A timeout
# *that returns earlier* would leave that cleanup racing with whatever you do next.
#
# `asyncio.wait_for(lookup(), 2.0)` does the same for a single awaitable; `timeout` is
# newer and works for any block of code, and since Python 3.12 `wait_for` is built on it.
#
# ## 2. Bug hunt: the immortal task
#
# Document 001 shows a cancellable operation that does it right: it catches
# `CancelledError`, cleans up, and **re-raises**. Forget the `raise`, and the task cannot
# be stopped any more. Here is the mistake, in a task that works for 10 s:


# %%
async def stubborn_worker():
    for second in range(10):
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            print(f"  cancelled during second {second}, carrying on")  # no raise: swallowed
    return "finished anyway"


async def try_to_stop_it():
    task = asyncio.create_task(stubborn_worker())
    await asyncio.sleep(2.5)
    task.cancel()
    result = await task
    return result, task.cancelled()


run = run_virtual(try_to_stop_it)
result, cancelled = run.unwrap()
print(f"await task gave {result!r} at t={run.elapsed:g}; task.cancelled() is {cancelled}")

# %% [markdown]
# `cancel()` is a *request*: it throws `CancelledError` into the task once. A task that
# swallows it runs on as if nothing happened, and whoever cancelled it cannot tell.
#
# Timeouts are built on cancellation, so they fail the same way. Give the stubborn code
# 1 s, first with `asyncio.timeout`, then with `wait_for`:


# %%
async def one_second_of(limit):
    loop = asyncio.get_running_loop()
    try:
        if limit == "timeout":
            async with asyncio.timeout(1.0):
                result = await stubborn_worker()
        else:
            result = await asyncio.wait_for(stubborn_worker(), 1.0)
    except TimeoutError:
        return f"TimeoutError at t={loop.time():g}"
    return f"returned {result!r} at t={loop.time():g}"


for limit in ("timeout", "wait_for"):
    print(f"{limit}: {run_virtual(one_second_of(limit)).value}")

# %% [markdown]
# Both "1 second" limits waited 10 seconds and raised nothing: the caller cannot even tell
# that its limit was ignored. No timeout helper can fix code that swallows cancellation;
# the only fix is in that code: **always re-raise `CancelledError`** (or don't catch it:
# `finally` runs anyway). Catching `Exception` is safe, since `CancelledError` is a
# `BaseException`; a bare `except:` is not.
#
# Two more tools, for the rare code that really must handle cancellation itself:
# `task.cancelling()` counts the cancel requests a task has pending, and `task.uncancel()`
# withdraws one. `asyncio.timeout` uses them to tell *its own* cancellation (which it
# turns into `TimeoutError`) from a cancellation that came from outside (which it lets
# through). Application code should almost never call them.
#
# ## 3. `asyncio.shield`: what it protects, and what it does not
#
# `await asyncio.shield(aw)` protects `aw` from being cancelled **by the code that
# awaits it**. The awaiting code is still cancelled (or times out) at once; the shielded
# work simply carries on, in a task of its own:

# %%
save = Operation("save", 3.0, result="saved")


async def save_with_one_second():
    task = asyncio.ensure_future(save())  # keep a reference: we will need the task later
    try:
        async with asyncio.timeout(1.0):
            await asyncio.shield(task)
    except TimeoutError:
        print(f"t={asyncio.get_running_loop().time():g}: the caller timed out; save is done: {task.done()}")
    print(f"t={asyncio.get_running_loop().time():g}: but the save went on and returned {await task!r}")


run_virtual(save_with_one_second).unwrap()

# %% [markdown]
# So `shield` is for work that must finish even if its caller gives up (a write that must
# not be left half done). What it does **not** do:
#
# * it does not make the caller wait: the caller gets its `CancelledError` or
#   `TimeoutError` at once;
# * it does not keep the work alive on its own: keep a reference to the task and await it
#   (or collect its result) later, or an error in it is never seen, and a task nobody
#   references can vanish in the middle of its work;
# * it does not protect against cancelling the inner task directly, nor against the loop
#   shutting down.
#
# ## 4. Graceful degradation: a fallback when the answer is late
#
# Document 002 wraps `wait_for` so that a slow call raises a readable `TimeoutError`. Often
# a better answer than an error is a **fallback**: a cached value, a default, a "try again
# later" page. The caller stays fast, and the late work is stopped instead of piling up.
# Two details make the difference between a fallback and a bug:
#
# * a fallback is for *our* timeout only. An operation may time out on its own (its own
#   connect timeout, say) and raise `TimeoutError` before our limit: that is an error of
#   the operation, and hiding it behind a fallback hides a real problem.
#   `async with asyncio.timeout(t) as scope:` tells the two apart: `scope.expired()` is
#   true only when *this* scope's time ran out;
# * a cancellation is not a timeout: if the caller itself is cancelled, it must end with
#   `CancelledError`, not carry on with a fallback.

# %% [markdown] statement="ch05-ex1-statement"
# ## Exercise 1 — a fallback on timeout (4 points)
#
# Write `call_with_fallback(operation, timeout, fallback)`:
#
# * call `operation()` (an async function of no arguments) **once**, and await it;
# * if it returns within `timeout` seconds (`timeout > 0`), return its result, as soon as
#   it returns;
# * if not: cancel it at `timeout` seconds after `call_with_fallback` started, let its
#   cleanup run to the end, then return `fallback`;
# * an exception the operation raises propagates unchanged, `TimeoutError` included: only
#   your own time limit gives the fallback;
# * if the task running `call_with_fallback` is cancelled, the operation is cancelled too,
#   and `CancelledError` propagates (no fallback);
# * leave no task running.
#
# In the checks, operations are `Operation` stand-ins: `Operation("lookup", 5)` takes 5 s
# and, when cancelled, spends `cleanup` seconds cleaning up before it re-raises. The
# clock may not start at 0.

# %% solution="ch05-ex1-call-with-fallback"
from solutions.timeouts import call_with_fallback

# %% tests="ch05-ex1-results" points=2
check_call_with_fallback(call_with_fallback)
check_call_with_fallback(call_with_fallback, duration=1.0)
### BEGIN HIDDEN TESTS
check_call_with_fallback(call_with_fallback, duration=5.0, timeout=2.0, cleanup=0.5, start=3.5)
check_call_with_fallback(call_with_fallback, duration=0.25, timeout=0.5, cleanup=0.0, start=12.0)
check_call_with_fallback(call_with_fallback, duration=30.0, timeout=0.75, cleanup=2.0, start=1.25)
check_call_with_fallback(call_with_fallback, duration=1.75, timeout=2.0, cleanup=1.0, start=0.5)
check_call_with_fallback(call_with_fallback, duration=2.25, timeout=2.0, cleanup=1.0, start=0.5)
### END HIDDEN TESTS

# %% tests="ch05-ex1-errors" points=2
check_call_with_fallback_errors(call_with_fallback)
check_call_with_fallback_cancelled(call_with_fallback)
### BEGIN HIDDEN TESTS
check_call_with_fallback_errors(call_with_fallback, fails_after=0.5, timeout=3.0, start=7.25)
check_call_with_fallback_cancelled(call_with_fallback, cancel_at=0.25, timeout=1.0, cleanup=1.5, start=4.0)
check_call_with_fallback_cancelled(call_with_fallback, timeout=2.0, cleanup=1.0, start=3.25, sweep=True)
### END HIDDEN TESTS

# %% [markdown]
# ### Your fallback, in pictures
#
# The 5 s lookup again, with a 2 s timeout and the fallback `"cached"`: on the left your
# `call_with_fallback`, on the right the reference. Grey is the lookup, cancelled at the
# timeout; orange its cleanup, which must end before the caller moves on.

# %%
from coursekit import reference_run
from coursekit.chapters.timeouts import LOOKUP_TIMEOUT, fallback_run

if exercise_done("exercise 1", call_with_fallback):
    both = {
        "your call_with_fallback": fallback_run(call_with_fallback),
        "reference": reference_run("timeouts", "fallback_run"),
    }
    for label, run in both.items():
        print(f"{label}: returned {run.value!r} at t={run.elapsed:g}")
    show_busy_timeline(
        both, title="A late lookup: cancelled, cleaned up, then the fallback", marks={"timeout": LOOKUP_TIMEOUT}
    )

# %% [markdown]
# ## 5. Cancelling many: what a `TaskGroup` does
#
# A `TaskGroup` (chapter 4) applies the same rule to a group of tasks: when one fails, it
# cancels the others, **waits for their cleanup**, and only then raises the
# `ExceptionGroup`. A group inside a timeout is cancelled as a whole:


# %%
async def group_under_timeout():
    loop = asyncio.get_running_loop()
    a, b = Operation("a", 3.0, cleanup=0.5), Operation("b", 4.0, cleanup=1.0)
    try:
        async with asyncio.timeout(1.0):
            async with asyncio.TaskGroup() as group:
                group.create_task(a(), name="a")
                group.create_task(b(), name="b")
    except TimeoutError:
        print(f"TimeoutError at t={loop.time():g}")
    for operation in (a, b):
        call = operation.calls[0]
        print(f"{operation.name}: cancelled at t={call.cancelled_at:g}, cleaned up at t={call.cleaned_up:g}")


run_virtual(group_under_timeout).unwrap()

# %% [markdown]
# The `TimeoutError` comes at t = 2, when the slower cleanup has ended: the group does not
# let anything it started outlive it.
#
# ## 6. One deadline for a whole request
#
# A request handler often calls a function that calls another, each doing I/O. Give each
# call its own "5 s timeout" and the request can take 15 s; the user gave up long before.
# Better: decide **one deadline** for the request, and pass it down, so that each layer
# takes only what is left. Go does this with `context.Context`; JavaScript with an
# `AbortSignal`:
#
# ```go
# ctx, cancel := context.WithTimeout(parent, 5*time.Second)  // never later than parent's
# defer cancel()
# body, err := fetch(ctx, url)                                // fetch stops at the deadline
# ```
#
# ```javascript
# const controller = new AbortController();
# setTimeout(() => controller.abort(), 5000);
# const response = await fetch(url, { signal: controller.signal });
# ```
#
# Two rules carry over: a deadline is a **point in time** (not a duration, which would
# restart at every layer), and a child deadline is **never later** than its parent's. In
# asyncio, `asyncio.timeout_at(when)` is a timeout scope ending at an absolute time on the
# loop's clock (`asyncio.get_running_loop().time()`, which is what "now" means here: never
# `time.time()`, whose wall clock jumps when the system's clock is set).

# %% [markdown] statement="ch05-ex2-statement"
# ## Exercise 2 — a `Deadline` to pass down (4 points)
#
# Complete the class `Deadline`. An instance holds `when`, an absolute time on the running
# loop's clock (`asyncio.get_running_loop().time()`); the constructor is given.
#
# * `Deadline.after(seconds)` (a class method): the deadline `seconds` from now;
# * `remaining()`: seconds left until `when`, never below `0.0`;
# * `expired()`: `True` from `when` on, `when` itself included;
# * `child(seconds)`: a new `Deadline` `seconds` from now, **but never later than this
#   one**;
# * `scope()`: an asynchronous context manager that cancels its block at `when` and then
#   raises `TimeoutError` (asyncio has one ready-made); a cancellation that comes from
#   elsewhere goes through as `CancelledError`.
#
# The checks make deadlines at times other than 0 and read them as time passes.

# %% solution="ch05-ex2-deadline"
from solutions.timeouts import Deadline

# %% tests="ch05-ex2-clock" points=1
check_deadline_clock(Deadline)
### BEGIN HIDDEN TESTS
check_deadline_clock(Deadline, seconds=0.5, start=3.75)
check_deadline_clock(Deadline, seconds=60.0, start=0.0)
### END HIDDEN TESTS

# %% tests="ch05-ex2-child" points=1
check_deadline_child(Deadline)
### BEGIN HIDDEN TESTS
check_deadline_child(Deadline, parent=1.5, shorter=0.25, longer=0.75, start=0.0)
check_deadline_child(Deadline, parent=30.0, shorter=29.0, longer=29.5, start=2.25)
check_deadline_child(Deadline, parent=4.0, shorter=3.0, longer=3.25, start=1.5)
### END HIDDEN TESTS

# %% tests="ch05-ex2-scope" points=2
check_deadline_scope(Deadline)
### BEGIN HIDDEN TESTS
check_deadline_scope(Deadline, seconds=0.75, work=2.0, cleanup=0.0, start=10.5)
check_deadline_scope(Deadline, seconds=6.0, work=9.0, cleanup=1.25, start=0.0)
check_deadline_scope(Deadline, seconds=2.0, work=4.0, cleanup=1.0, start=0.75, sweep=True)
### END HIDDEN TESTS

# %% [markdown]
# Here is a deadline passed down three layers. The handler gets 5 s; it gives the
# database at most 2 s, and lets the page renderer use whatever is left. The database is
# slow today (3 s), so its step stops at its own deadline and the handler falls back to
# a cached row; the renderer then has 3 s left, not 5:


# %%
async def render(row, deadline):
    async with deadline.scope():
        await Operation("render", 1.5)()
        return f"page for {row}"


async def handle_request(deadline):
    loop = asyncio.get_running_loop()
    try:
        async with deadline.child(2.0).scope():
            row = await Operation("database", 3.0, result="fresh row")()
    except TimeoutError:
        row = "cached row"
    print(f"t={loop.time():g}: {row}; {deadline.remaining():g} s left for the page")
    return await render(row, deadline)


if exercise_done("exercise 2", Deadline):
    print(run_virtual(lambda: handle_request(Deadline.after(5.0))).value)

# %% [markdown]
# ## 7. Graceful shutdown
#
# Stopping a service (a deploy, Ctrl+C) is cancellation at scale. Cancel everything at
# once and you lose work that was about to finish; wait for everything and a stuck task
# holds the shutdown for ever. The usual compromise has three steps:
#
# 1. wait up to a **grace period** for the running tasks to end on their own;
# 2. **cancel** the tasks still running;
# 3. **wait** until they have ended: their cleanup (closing connections, flushing
#    buffers) must finish before the process exits.
#
# Then report what happened, without letting one task's error hide the others.
# `asyncio.wait(tasks, timeout=...)` suits step 1: it returns the sets `(done, pending)`
# at the timeout, never raises the tasks' errors, and never cancels anything.

# %% [markdown] statement="ch05-ex3-statement"
# ## Exercise 3 — shut down gracefully (3 points)
#
# Write `shutdown(tasks, grace)`; `tasks` is a collection of asyncio tasks, each with a
# different name:
#
# * let every task run until it ends or `grace` seconds have passed, whichever comes first;
#   cancel no task that ends within the grace period;
# * then cancel every task still running, and wait until each one **has ended** (its
#   cleanup may take time; a task may even ignore the cancellation and run to its end);
# * return as soon as every task has ended (don't wait out the grace period needlessly)
#   a dict from each task's name (`task.get_name()`) to how it ended: `"finished"` (it
#   returned), `"failed"` (it raised an exception: report it, don't raise it, and leave
#   no exception unretrieved), or `"cancelled"`;
# * with no tasks, return `{}` at once;
# * if the task running `shutdown` is itself cancelled, `CancelledError` propagates (what
#   becomes of the tasks then is up to you).

# %% solution="ch05-ex3-shutdown"
from solutions.timeouts import shutdown

# %% tests="ch05-ex3-results" points=2
check_shutdown(shutdown)
check_shutdown(shutdown, grace=10.0, durations=(1.0, 2.0, 2.5))
### BEGIN HIDDEN TESTS
check_shutdown(shutdown, grace=0.5, durations=(0.25, 3.0, 3.0), cleanup=1.0, start=20.0)
check_shutdown(shutdown, grace=4.0, durations=(3.5, 0.5, 8.0), cleanup=0.0, start=1.5)
check_shutdown(shutdown, grace=2.0, durations=(1.75, 2.25, 6.0), cleanup=2.0, start=0.75, sweep=True)
### END HIDDEN TESTS

# %% tests="ch05-ex3-edge-cases" points=1
check_shutdown_stubborn(shutdown)
check_shutdown_nothing(shutdown)
### BEGIN HIDDEN TESTS
check_shutdown_stubborn(shutdown, grace=0.25, work=1.75)
### END HIDDEN TESTS

# %% [markdown]
# ### Your shutdown, in pictures
#
# Three tasks and a 3 s grace period: `quick` returns at t = 1, `broken` fails at t = 2,
# `slow` would need 10 s, so it is cancelled when the grace period ends and cleans up for
# 0.5 s (orange). Left, your `shutdown`; right, the reference.

# %%
from coursekit.chapters.timeouts import GRACE, shutdown_run

if exercise_done("exercise 3", shutdown):
    both = {"your shutdown": shutdown_run(shutdown), "reference": reference_run("timeouts", "shutdown_run")}
    for label, run in both.items():
        print(f"{label}: {run.value}")
    show_busy_timeline(both, title="A graceful shutdown", marks={"grace ends": GRACE})

# %% [markdown]
# ## 8. On a real socket: the course's HTTP service
#
# So far every call was a stand-in on the virtual clock. The course also has a real,
# seeded, unreliable HTTP service (`coursekit.service`). Below it runs for real on
# 127.0.0.1 (it stops when the `with` block ends, even if you interrupt the cell), with
# every request to `/items/...` hanging for ever and `/pages/...` answering in 50 ms. Your
# `call_with_fallback` works unchanged on the real clock with a real HTTP client:

# %%
# NBVAL_IGNORE_OUTPUT: the real clock; a machine that stalls for 0.45 s would turn the 0.05 s answer into a fallback
import functools

import httpx

from coursekit.service import Faults, Latency, Service
from coursekit.service.live import serve_live

service = Service(seed=5, faults=Faults(latency=Latency.fixed(0.05)), endpoints={"/items": Faults(hang_rate=1.0)})


async def fetch_with_fallbacks(url):
    async with httpx.AsyncClient(base_url=url) as client:
        for path in ("/pages/0", "/items/1"):
            answer = await call_with_fallback(functools.partial(client.get, path), 0.5, None)
            print(f"GET {path}: {'fallback (no answer within 0.5 s)' if answer is None else answer.status_code}")


if exercise_done("exercise 1", call_with_fallback):
    with serve_live(service) as url:
        await fetch_with_fallbacks(url)
    print("what the server saw:", [(record.path, record.outcome) for record in service.log])

# %% [markdown]
# The server's own log shows the hanging request as `cancelled`: when the timeout
# cancelled the client's request, the connection was closed, and the server stopped
# waiting too.
#
# ## 9. The production library: anyio's cancel scopes
#
# `anyio` (used by httpx and Jupyter, installed here) has `move_on_after(seconds)`, which
# is a fallback on timeout in one line, and `fail_after(seconds)`, a timeout that raises.
# Let's put `move_on_after` through exercise 1's checks:

# %%
import anyio

from coursekit import CheckFailed


async def anyio_fallback(operation, timeout, fallback):
    with anyio.move_on_after(timeout):
        return await operation()
    return fallback


try:
    check_call_with_fallback(anyio_fallback)
except CheckFailed as failure:
    print(failure)

# %% [markdown]
# anyio fails our cleanup check, by design. Its cancellation is *level-triggered*: once a
# scope is cancelled, **every** `await` inside it is cancelled again, the cleanup's own
# `await asyncio.sleep(...)` included, until the code leaves the scope. asyncio's is
# *edge-triggered*: one `CancelledError`, after which the cleanup can await freely. Under
# anyio, cleanup that needs to await goes in a shielded scope:
# `with anyio.CancelScope(shield=True): await close_connection()`. The upside: code that
# swallows one cancellation cannot escape an anyio scope, which makes section 2's
# immortal task impossible there. The same question decides which one you want: can your
# cleanup await?
#
# ## Summary
#
# | rule | what goes wrong without it | seen in |
# |---|---|---|
# | re-raise `CancelledError` after cleaning up (or use `finally`) | the task cannot be stopped; every timeout around it silently waits for it | 001 §2.5.5 (right), section 2 (wrong) |
# | a timeout cancels the work **and waits for its cleanup** | the late work goes on in the background, or its cleanup races what comes next | exercise 1 |
# | a fallback is for your own timeout only | real errors of the operation are hidden behind "slow" | 002 §14.4 |
# | a cancelled caller ends with `CancelledError` | cancelled code carries on with a fallback | exercise 1 |
# | `shield` protects the work, not the caller; keep the task | errors of the shielded work are never seen | section 3 |
# | one deadline, passed down; a child never outlives its parent | each layer restarts the clock; a request takes the sum of its timeouts | 002 §14.4 (Go, JS), exercise 2 |
# | read the loop's clock, never `time.time()` | wall-clock jumps break timeouts; virtual time cannot be used | exercise 2 |
# | shut down in three steps: grace, cancel, wait | lost work, or a shutdown that never ends | exercise 3 |
#
# Next: chapter 6, retries and backoff, where a timeout becomes a reason to try again.

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

check_my_work("timeouts.ipynb")
