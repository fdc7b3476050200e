# %% [markdown]
# # Chapter 4 — Fan-out / fan-in
#
# **Fan-out**: start many pieces of work at once (requests, queries, jobs). **Fan-in**:
# bring their answers back together — as a list, as one stream, or as the single answer
# you were waiting for.
#
# ```
#             ┌──► fetch url 1 ──┐
# urls ───────┼──► fetch url 2 ──┼──► [body 1, body 2, body 3]     (fan-out, then fan-in)
#             └──► fetch url 3 ──┘
#
# stream a ──┐
# stream b ──┼──► one merged stream                                 (fan-in of streams)
# stream c ──┘
#
# mirror 1 ──┐
# mirror 2 ──┼──► the first answer that *succeeds*; the others cancelled  (a race)
# mirror 3 ──┘
# ```
#
# In this chapter you will:
#
# 1. compare `gather`, `as_completed` and `TaskGroup`, and see what each does when one
#    piece of work **fails** — including a `gather` that leaves work running behind your back;
# 2. write an all-or-nothing fan-out (exercise 1), then fetch many URLs over **one shared
#    HTTP client** (exercise 2), and measure what opening a client per request costs;
# 3. merge several async streams into one, and clean up when the reader walks away
#    (exercise 3);
# 4. race several attempts for the first **successful** answer, not merely the first
#    finished one (exercise 4).
#
# Everything runs on the virtual clock from chapter 0. The HTTP requests go to the
# course's fault-injecting service (`coursekit.service`), inside this process through
# httpx's `ASGITransport` (no network, the same timings on every run), and at the end of
# section 3 for real, served by uvicorn on 127.0.0.1, with the same client code.

# %% locked="ch04-setup"
# %matplotlib inline
import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine, Hashable, Sequence  # noqa: F401  (your solutions' annotations)
from typing import Any, TypeVar  # noqa: F401  (your solutions' annotations)

import httpx

from coursekit import exercise_done, run_virtual
from coursekit.chapters.fan_out_fan_in import (
    ItemFailed,
    Workload,
    check_fetch_all,
    check_first_success,
    check_merge,
    check_merge_cancelled,
    check_run_all,
    show_busy_timeline,
    show_in_flight,
)
from coursekit.service import BASE_URL, Faults, Latency, Service
from coursekit.service.connections import Connections
from coursekit.service.live import serve_live

T = TypeVar("T")

# %% [markdown]
# ## 1. Three ways to wait for many things
#
# | tool | gives you | when one fails |
# |---|---|---|
# | `await asyncio.gather(*aws)` | a list of results **in the order of the arguments** | raises that error at once — and the others **keep running** (section 2) |
# | `await asyncio.gather(*aws, return_exceptions=True)` | the same list, with each error **in its place** | nothing special: the error is a result |
# | `for next_done in asyncio.as_completed(aws): await next_done` | results **in the order they finish** | that `await` raises; the rest go on |
# | `async with asyncio.TaskGroup() as group:` `group.create_task(...)` | tasks; read `task.result()` after the block | **cancels the others**, waits for them, raises an `ExceptionGroup` |
#
# `Workload` from chapter 1 stands in for real work: here item `"a"` takes 3 s, `"b"` 1 s
# and `"c"` 2 s, and each returns `("done", item)`.

# %%
work = Workload(duration={"a": 3.0, "b": 1.0, "c": 2.0}.__getitem__)


async def three_ways():
    loop = asyncio.get_running_loop()
    results = await asyncio.gather(work("a"), work("b"), work("c"))
    print(f"gather        t={loop.time():g} s  {results}")
    start = loop.time()
    for next_done in asyncio.as_completed([work("a"), work("b"), work("c")]):
        result = await next_done
        print(f"as_completed  t={loop.time() - start:g} s  {result}")


run_virtual(three_ways).unwrap()

# %% [markdown]
# `gather` waited 3 s (the slowest) and returned the results in the order *you* gave
# them: position `i` belongs to argument `i`, whoever finished first. `as_completed`
# handed each result over as soon as it was ready, in finishing order — useful to show
# progress, useless if you need to know which result belongs to which input (unless the
# result says so itself).
#
# Now let `"b"` fail. With `return_exceptions=True` the error takes its place in the list;
# without it, `gather` raises:

# %%
flaky = Workload(duration={"a": 3.0, "b": 1.0, "c": 2.0}.__getitem__, failing={"b"})


async def with_a_failure():
    loop = asyncio.get_running_loop()
    results = await asyncio.gather(flaky("a"), flaky("b"), flaky("c"), return_exceptions=True)
    print(f"t={loop.time():g} s  return_exceptions=True: {results}")
    start = loop.time()
    try:
        await asyncio.gather(flaky("a"), flaky("b"), flaky("c"))
    except ItemFailed as error:
        print(f"t={loop.time() - start:g} s  plain gather raised: {error!r}")


run_virtual(with_a_failure).unwrap()


# %% [markdown]
# ## 2. Bug hunt: `gather` raises, and the work goes on
#
# The plain `gather` raised at t = 1 s, when `"b"` failed. What happened to `"a"` and
# `"c"`? Document 000's fan-out/fan-in (§5) is exactly this: `await asyncio.gather(*[processor(item)
# for item in items])`, with no `return_exceptions` and no cleanup. The documentation of
# `gather` says it plainly: when the first exception propagates, *"other awaitables in
# the aws sequence won't be cancelled and will continue to run."* Let's watch them: five items, item `n` takes `n` seconds, item 2 fails.
# After the fan-out raises, we keep the loop going for 5 more seconds and print every
# item's end.


# %%
async def fan_out_with_gather(work, items):
    tasks = [asyncio.create_task(work(item), name=f"item {item}") for item in items]
    return await asyncio.gather(*tasks)


async def fan_out_with_taskgroup(work, items):
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(work(item), name=f"item {item}") for item in items]
    return [task.result() for task in tasks]


def after_the_first_error(fan_out):
    work = Workload(duration=lambda item: float(item), failing={2})

    async def main():
        loop = asyncio.get_running_loop()
        try:
            await fan_out(work, [1, 2, 3, 4, 5])
        except* ItemFailed:
            print(f"{fan_out.__name__} raised at t={loop.time():g} s")
        await asyncio.sleep(5)  # keep watching

    run = run_virtual(main)
    for end in sorted(run.of_kind("work.end"), key=lambda end: (end.time, end["item"])):
        print(f"   t={end.time:g} s  item {end['item']} ended: {end['outcome']}")
    return run


gather_run = after_the_first_error(fan_out_with_gather)
group_run = after_the_first_error(fan_out_with_taskgroup)

# %% [markdown]
# With `gather`, items 3, 4 and 5 ran to the end **after** the caller had been told the
# fan-out failed. Nobody is waiting for them any more: their results are thrown away, an
# error they raise later vanishes without a trace (`gather` marks it as seen), and if they
# write to a database or send an e-mail, they do it after the caller has moved on —
# perhaps while it retries the whole operation. With the `TaskGroup`,
# the first failure **cancelled** them (grey below), and the group waited until they had
# ended before it raised. Red is the failure, green work that finished:

# %%
show_busy_timeline(
    {"gather (siblings keep running)": gather_run, "TaskGroup (siblings cancelled)": group_run},
    title="Five items fanned out; item 2 fails at t = 2 s",
)

# %% [markdown]
# ### Catching what a `TaskGroup` raises
#
# A `TaskGroup` raises an **`ExceptionGroup`**, even for a single failure, because
# several tasks may fail at the same instant. Catch it with `except*`, which picks the
# exceptions of one type out of the group (and also matches a bare exception):
#
# ```python
# try:
#     results = await run_all(handle, items)
# except* httpx.HTTPError as group:        # group is an ExceptionGroup of those errors
#     for error in group.exceptions:
#         log(error)
# ```
#
# A plain `except ItemFailed` does **not** catch an `ExceptionGroup` that contains one.
# Which one should you use? `gather(..., return_exceptions=True)` when each piece of
# work stands alone and you want every answer (good ones and errors); a `TaskGroup` when
# the pieces only make sense together, so that one failure makes the rest pointless.
# `gather` without `return_exceptions` is right only when you will stop the program anyway.

# %% [markdown] statement="ch04-ex1-statement"
# ## Exercise 1 — all or nothing (3 points)
#
# Write `run_all(handle, items)`:
#
# * call `handle(item)` for every item, **all at the same time** (an item listed twice
#   is handled twice);
# * when every call succeeds, return their results as a list **in the order of `items`**;
# * when a call fails: **cancel** every call still running, **wait** until they have all
#   ended, then raise an **`ExceptionGroup`** that holds the failure;
# * leave no task running when you return or raise, also when you are cancelled (then let the
#   `CancelledError` propagate).
#
# A `TaskGroup` does the second half for you. In the checks, item `i` takes
# `durations[i]` seconds: first nothing fails, then item 2 fails 2 s after the call.

# %% solution="ch04-ex1-run-all"
from solutions.fan_out_fan_in import run_all

# %% tests="ch04-ex1-visible" points=1
check_run_all(run_all)

# %% tests="ch04-ex1-hidden" points=2
check_run_all(run_all, durations=(1.0, 2.0), failing=())
### BEGIN HIDDEN TESTS
check_run_all(run_all, durations=(2.0, 0.5, 0.5, 3.0, 1.0, 2.5), failing={1, 2})
check_run_all(run_all, durations=(4.0, 1.0, 0.25), failing={0}, start=0.0)
check_run_all(run_all, durations=(1.0, 3.0, 0.5, 2.0), failing={3})
check_run_all(run_all, durations=(1.0, 3.0, 0.5), items=(2, 0, 2, 1), failing=())
check_run_all(run_all, durations=(1.0, 3.0, 0.5), items=(1, 0, 2, 0), failing={0})
check_run_all(run_all, durations=(), failing=())
# cancelled at each of its waits
check_run_all(run_all, cancel_each_wait=True)
check_run_all(run_all, durations=(1.0, 3.0, 0.5), items=(2, 0, 2, 1), failing=(), cancel_each_wait=True)
### END HIDDEN TESTS

# %% [markdown]
# ### Your `run_all`, in pictures
#
# Left, your `run_all`; right, the reference; the same five items, item 2 failing. The
# loop keeps running for 5 s after the fan-out raised, so anything left running would
# show up as a green bar past t = 2 s.

# %%
from coursekit import reference_run
from coursekit.chapters.fan_out_fan_in import run_all_run

if exercise_done("exercise 1", run_all):
    show_busy_timeline(
        {"your run_all": run_all_run(run_all), "reference": reference_run("fan_out_fan_in", "run_all_run")},
        title="run_all: the first failure cancels the siblings",
    )


# %% [markdown]
# ## 3. Bug hunt: one HTTP client per request
#
# Fetching many URLs is the classic fan-out. Document 000 gets it right once (§1:
# `async with httpx.AsyncClient() as client:` around the `gather`), and then, in §5 and
# in the crawler of §8, opens a **new client inside the function that fetches one URL**:
#
# ```python
# async def fetch(url):
#     async with httpx.AsyncClient() as client:
#         return await client.get(url)
# ```
#
# A client is not just a function to call: it owns a **pool of connections**. The first
# request to a host opens a connection (a TCP handshake, and for `https` a TLS handshake:
# several network round trips); when the answer has arrived, the connection goes back to
# the pool, and the next request to that host reuses it for free (HTTP keep-alive). A
# client made for one request throws its pool away, so **every** request pays the
# handshakes again — and a busy crawler also piles up sockets waiting to close.
#
# Our service is the course's fault-injecting service (`Service`): `GET /items/<n>`
# answers `{"item":n}` after its latency, here 0.5 s. In-process, httpx's `ASGITransport`
# hands each request straight to it: no socket, so no connection to reuse either. So we
# put `Connections` in front of it, a model of httpx's own connection pool on the virtual
# clock: a request that finds no idle connection in its client's pool opens one, which
# takes `connect_time` (the handshakes); a connection goes back to its pool when the answer
# has been read, and `httpx.Limits(max_connections=...)` caps a pool as it does in httpx.
# Each connection has its own client port, which the service writes in its log next to
# each request (`record.client`), as it does when it is served for real. Inside
# `connections.intercept()`, a plain `httpx.AsyncClient()` is a client of the service
# with a pool of its own, so we can run the document's code as it is written. 30 URLs, at
# most 10 at a time, with a handshake of 0.1 s, then of 0.45 s (three round trips to a
# server across an ocean, over TLS):


# %%
def measure(fetch_everything, connect_time, n_urls=30):
    service = Service(faults=Faults(latency=Latency.fixed(0.5)))
    connections = Connections(service, connect_time=connect_time)
    urls = [f"{BASE_URL}/items/{n}" for n in range(1, n_urls + 1)]
    with connections.intercept():
        run = run_virtual(lambda: fetch_everything(urls))
    bodies = run.unwrap()
    ports = {record.client for record in service.log}
    print(
        f"{fetch_everything.__name__:18} connect {connect_time:4g} s: {len(bodies)} bodies, "
        f"{connections.clients:2} client(s), {connections.opened:2} connections "
        f"({len(ports):2} client ports in the service's log), done at t={run.elapsed:g} s"
    )


async def client_per_request(urls):
    semaphore = asyncio.Semaphore(10)

    async def fetch(url):
        async with semaphore:
            async with httpx.AsyncClient() as client:  # document 000, §5 and §8
                response = await client.get(url)
                return response.text

    return await asyncio.gather(*(fetch(url) for url in urls))


async def one_shared_client(urls):
    semaphore = asyncio.Semaphore(10)
    async with httpx.AsyncClient() as client:  # one client, one pool, for everything

        async def fetch(url):
            async with semaphore:
                response = await client.get(url)
                return response.text

        return await asyncio.gather(*(fetch(url) for url in urls))


for connect_time in (0.1, 0.45):
    measure(client_per_request, connect_time)
    measure(one_shared_client, connect_time)

# %% [markdown]
# Thirty requests, thirty connections with a client per request: each of the three waves
# of ten pays a handshake. With a shared client, ten connections, one per request in
# flight, each reused twice: only the first wave pays. With 0.1 s handshakes against
# 0.5 s answers the difference is small (1.8 s against 1.6 s); with 0.45 s handshakes
# it is 2.85 s against 1.95 s, and it grows with the number of waves. Create the client
# **once**, where the fan-out starts (or once per program), and pass it to the code that
# uses it.
#
# The pool is also a limit. A shared client with `httpx.Limits(max_connections=5)` and no
# semaphore at all: the other requests wait in the pool for one of its five connections.


# %%
async def pool_limited(urls):
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=5)) as client:
        responses = await asyncio.gather(*(client.get(url) for url in urls))
        return [response.text for response in responses]


measure(pool_limited, 0.1)

# %% [markdown]
# Five connections, six waves of 0.5 s after one handshake. (A pool waits at most its
# *pool timeout* for a connection, 5 s by default, then raises `httpx.PoolTimeout`:
# with hundreds of URLs, limit them with a semaphore as above, and keep the pool at least
# as large.)
#
# ### On a real socket
#
# The same two functions against the service served for real by uvicorn on 127.0.0.1
# (`serve_live`), on the real clock, answers taking 10 ms. Here the connections are real
# TCP connections and the ports in the service's log are the ones the operating system
# gave them. (How long each run takes varies, so we print only the counts.)

# %%
for fetch_everything in (client_per_request, one_shared_client):
    live_service = Service(faults=Faults(latency=Latency.fixed(0.01)))
    with serve_live(live_service) as url:
        live_bodies = await fetch_everything([f"{url}/items/{n}" for n in range(1, 31)])
    ports = {record.client for record in live_service.log}
    print(
        f"{fetch_everything.__name__:18} {len(live_bodies)} bodies; the service saw {len(live_service.log)} "
        f"requests on {'30' if len(ports) == 30 else 'at most 10' if len(ports) <= 10 else len(ports)} connections"
    )

# %% [markdown]
# Two more details. A request's **status** is not an error for httpx until you ask:
# a `503 Service Unavailable` comes back as a normal `Response`; call
# `response.raise_for_status()` to turn 4xx/5xx answers into `httpx.HTTPStatusError`.
# And the errors a request can raise — a refused connection, a dropped one, a timeout,
# a bad status — all derive from `httpx.HTTPError`, so one `except` covers them.

# %% [markdown] statement="ch04-ex2-statement"
# ## Exercise 2 — many requests, one client (3 points)
#
# Write `fetch_all(client, urls, *, limit=10)`:
#
# * send `GET url` for every URL through **`client`**, the one you are given (create no
#   other client); a URL listed twice is requested twice;
# * keep **at most `limit`** requests in flight at once, and as many as that allows: when
#   one ends, the next starts at once;
# * return a list with one entry per URL, **in the order of `urls`**: the body
#   (`response.text`) of a successful answer, or the **exception** that URL caused —
#   `httpx.HTTPStatusError` for a 4xx/5xx answer (use `raise_for_status()`), or whatever
#   `httpx.HTTPError` the request raised;
# * one failing URL never affects the others; leave no task running, also when you are
#   cancelled (then let the `CancelledError` propagate).
#
# In the visible check, 8 URLs `/items/1` … `/items/8`, `limit=3`, through a client with
# a 5 s timeout: `/items/2` takes 2.5 s, the others 1 s; `/items/4` answers 500 or 503,
# and `/items/6` never answers (the client gives up after 5 s: `httpx.ReadTimeout`).

# %% solution="ch04-ex2-fetch-all"
from solutions.fan_out_fan_in import fetch_all

# %% tests="ch04-ex2-visible" points=1
check_fetch_all(fetch_all)

# %% tests="ch04-ex2-hidden" points=2
check_fetch_all(fetch_all, items=(1, 2, 3, 4), limit=10, slow=(), failing=(), hanging=())
### BEGIN HIDDEN TESTS
check_fetch_all(fetch_all, items=(3, 1, 3, 2, 1), limit=2, slow=((3, 2.0),), failing=(2,), hanging=())
check_fetch_all(fetch_all, items=tuple(range(1, 21)), limit=5, latency=0.5, failing=(3, 20), refused=(9,), start=0.0)
check_fetch_all(fetch_all, items=(1, 2, 3, 4, 5, 6), limit=1, slow=((5, 0.25),), failing=(1,), refused=(3,))
check_fetch_all(fetch_all, items=(5, 6, 7), limit=2, slow=(), failing=(7,), hanging=(5,), timeout=3.0)
check_fetch_all(fetch_all, items=tuple(range(1, 15)), limit=None, slow=((1, 2.0),), failing=(), hanging=())
check_fetch_all(fetch_all, items=())
# a refused connection (httpx.ConnectError) beside a 5xx and a timeout
check_fetch_all(fetch_all, items=(1, 2, 3, 4, 5), limit=2, failing=(2,), hanging=(4,), unreachable=(3,), timeout=3.0)
# cancelled at each of its waits
check_fetch_all(fetch_all, cancel_each_wait=True)
check_fetch_all(fetch_all, items=(3, 1, 3, 2, 1), limit=2, slow=((3, 2.0),), failing=(2,), cancel_each_wait=True)
### END HIDDEN TESTS

# %% [markdown]
# ### Your `fetch_all`, in pictures
#
# Your `fetch_all` and the reference on 12 URLs with `limit=4`, each answer taking 1 s
# and `/items/5` answering with an error: first one row per request (from the moment it
# was sent, its connection's handshake included, to its answer), then how many were in
# flight. With the limit, the requests go in three waves of four, over four connections.

# %%
from coursekit.chapters.fan_out_fan_in import fetch_all_run

if exercise_done("exercise 2", fetch_all):
    both = {"your fetch_all": fetch_all_run(fetch_all), "reference": reference_run("fan_out_fan_in", "fetch_all_run")}
    for label, run in both.items():
        clients, connections = len(run.of_kind("http.client")), len(run.of_kind("http.connect"))
        print(f"{label}: {clients} client(s), {connections} connection(s) opened")
    show_busy_timeline(both, title="fetch_all: one row per request (red: the error)")
    show_in_flight(both, limit=4, title="fetch_all: requests in flight (limit 4)")

# %% [markdown]
# ## 4. Fan-in of streams: merge
#
# Sometimes each source is not one answer but a **stream** of them: messages from
# several queues, lines from several log files, events from several websockets. Fan-in
# then means merging the streams into one, item by item, as they arrive. Document 002
# (§14.3) does it in Go:
#
# ```go
# func merge(channels ...<-chan int) <-chan int {
#     var wg sync.WaitGroup
#     merged := make(chan int)
#     for _, ch := range channels {
#         wg.Add(1)
#         go func(c <-chan int) {        // one goroutine per input, forwarding into merged
#             defer wg.Done()
#             for v := range c { merged <- v }
#         }(ch)
#     }
#     go func() { wg.Wait(); close(merged) }()   // merged ends when every input has ended
#     return merged
# }
# ```
#
# The shape is right: one forwarder per input, all feeding one output, and the output
# ends when **every** input has ended (not the first). In asyncio: one task per stream, a
# queue, and a count of streams that have ended; the merged stream is an **async
# generator**. Here is that translation, with streams that tick forever:

# %%
ticks: list[tuple[float, str]] = []  # (time, item): every item the tickers produce


async def ticker(name, every):
    number = 0
    while True:
        await asyncio.sleep(every)
        ticks.append((asyncio.get_running_loop().time(), f"{name}{number}"))
        yield f"{name}{number}"
        number += 1


async def go_style_merge(*streams):
    merged: asyncio.Queue[object] = asyncio.Queue()
    ended = object()

    async def forward(stream):
        async for item in stream:
            await merged.put(item)
        await merged.put(ended)

    for number, stream in enumerate(streams, 1):
        asyncio.create_task(forward(stream), name=f"forward-{number}")
    running = len(streams)
    while running:
        item = await merged.get()
        if item is ended:
            running -= 1
        else:
            yield item


async def read_five(merge_function):
    ticks.clear()
    async with contextlib.aclosing(merge_function(ticker("a", 0.5), ticker("b", 0.7))) as merged:
        items = []
        async for item in merged:
            items.append(item)
            if len(items) == 5:
                break
    left_at = asyncio.get_running_loop().time()
    await asyncio.sleep(3)  # the reader does something else for a while
    produced_after = [item for time, item in ticks if time > left_at]
    print(f"read {items}, then left at t={left_at:g} s;")
    print(f"in the next 3 s the tickers produced {len(produced_after)} more items: {produced_after}")


run = run_virtual(lambda: read_five(go_style_merge))
print("tasks still running at the end:", ", ".join(task.name for task in run.leftover))

# %% [markdown]
# The reader took five items and left; the forwarders did not. They go on reading the
# tickers and filling a queue nobody reads, forever (in Go, the goroutines block on
# `merged <- v` forever instead: a goroutine leak; Go's fix is a `done` channel or a
# `context` that the forwarders watch). The merged stream must **own** its forwarders:
# when it stops — because the reader stopped early, was cancelled, or a stream failed —
# it cancels them, waits for them, and closes the streams they were reading.
#
# An async generator knows when its reader stops, if the reader closes it: wrap the
# loop in `try: ... finally:`, and the `finally` runs on `aclose()`, on cancellation and
# on errors. Note the reader's side too: a `break` out of `async for` does **not** close
# an async generator; its `finally` runs only when the generator is garbage-collected,
# in a cleanup task the event loop starts and nobody waits for.
# `async with contextlib.aclosing(generator):` closes it at once, as above.

# %% [markdown] statement="ch04-ex3-statement"
# ## Exercise 3 — merge (3 points)
#
# Write the async generator `merge(*streams)`; each stream is an async generator.
#
# * Yield every item of every stream **exactly once** (whatever its value, `None`
#   included), each **as soon as** its stream produces it (read all streams at once: one
#   task per stream, feeding a queue);
# * end when **every** stream has ended;
# * if a stream raises an `Exception`, raise it to the reader;
# * whenever merge stops — all streams ended, a stream failed, the reader closed it
#   early (`aclose()`) or the reader's task was cancelled — **cancel** your tasks, **wait**
#   for them, and make sure every stream is **closed** (iterate each inside
#   `async with contextlib.aclosing(stream):`) before merge finishes.
#
# In the checks, stream `a` yields `a0, a1, …` every 0.5 s, `b` every 0.7 s, `c` every
# 1.1 s; then the same again with a fourth stream that raises 1.2 s after the start. The second
# check stops reading after 3 items, once with `break` and once by cancelling the reader.

# %% solution="ch04-ex3-merge"
from solutions.fan_out_fan_in import merge

# %% tests="ch04-ex3-visible" points=1
check_merge(merge)
check_merge_cancelled(merge)

# %% tests="ch04-ex3-hidden" points=2
check_merge_cancelled(merge, take=4, streams=((0.25, 40), (0.25, 40), (0.25, 40)))
### BEGIN HIDDEN TESTS
check_merge(merge, streams=((1.0, 3),))
check_merge(merge, streams=((0.3, 5), (0.5, 0), (0.25, 7), (2.0, 1)), fail_at=0.8)
check_merge(merge, streams=((1.0, 3), (0.25, 2), (0.4, 2)), nones=(1,), fail_at=-0.5, start=0.0)
check_merge(merge, streams=(), fail_at=None)
check_merge(merge, streams=((0.5, 3),), fail_at=0.1)
check_merge_cancelled(merge, take=5, streams=((0.25, 50), (0.25, 50), (0.5, 50)))
check_merge_cancelled(merge, take=1, streams=((2.0, 3), (0.5, 30)), start=0.0)
### END HIDDEN TESTS

# %%
if exercise_done("exercise 3", merge):
    run = run_virtual(lambda: read_five(merge))
    print("tasks still running at the end:", len(run.leftover))


# %% [markdown]
# ## 5. Bug hunt: the first to finish is not the first to succeed
#
# Ask three mirrors for the same file and take whichever answers first: a **race**. It
# cuts the slow tail of latency (one slow mirror no longer makes you slow) at the price
# of extra requests. Document 000 (§7) writes it with
# `asyncio.wait(tasks, return_when=FIRST_COMPLETED)` and returns
# `list(done)[0].result()`. Its cleanup is good: in a `finally`, it cancels the tasks
# still pending and waits for them. But *completed* includes *failed*: when the fastest
# mirror answers with an error, the race is over and lost, although a slower mirror was
# about to succeed. Here the `eu` mirror fails after 0.3 s, `us` would answer after
# 0.8 s and `asia` after 1.5 s:


# %%
async def race_first_completed(*attempts):  # document 000 §7, without its timeout
    tasks = [asyncio.create_task(attempt()) for attempt in attempts]
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        return list(done)[0].result()
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


mirrors = Workload(duration={"eu": 0.3, "us": 0.8, "asia": 1.5}.__getitem__, failing={"eu"})
ask = {name: (lambda name=name: mirrors(name)) for name in ("eu", "us", "asia")}

run = run_virtual(lambda: race_first_completed(ask["eu"], ask["us"], ask["asia"]))
print(f"t={run.elapsed:g} s:", run.diagnosis)

# %% [markdown]
# (`list(done)[0]` has a second flaw: `done` is a set, so when two attempts finish at the
# same instant, which one you get is arbitrary.) A race for the first **success** keeps
# waiting while attempts fail, and fails only when all of them have — with *all* their
# errors, since each may tell a different story. The document's `timeout` is a separate
# concern: wrap the race in `async with asyncio.timeout(5):`; cancelling the race must
# then cancel every attempt, which a `finally` that cancels and awaits them does
# (chapter 5 is about timeouts and cancellation).

# %% [markdown] statement="ch04-ex4-statement"
# ## Exercise 4 — the first success wins (3 points)
#
# Write `first_success(*attempts)`; each attempt is an async function with no arguments.
#
# * Start every attempt at once; return the result of the **first attempt that
#   succeeds**, as soon as it does (if several succeed at the same instant, the first in
#   the order given);
# * a failed attempt does not end the race;
# * the losers are **cancelled**, and have **ended**, before you return;
# * if **every** attempt fails, raise `ExceptionGroup("every attempt failed", errors)`
#   with the errors in the order of the attempts, as soon as the last one has failed;
# * with no attempts at all, raise `ValueError`;
# * if you are cancelled, let the `CancelledError` propagate (a failed attempt raised an
#   `Exception`; the race's own cancellation is not one).
#
# In the visible check, attempt 0 takes 3 s, attempt 1 fails after 1 s, attempt 2
# succeeds after 2 s; then a race where all three fail.

# %% solution="ch04-ex4-first-success"
from solutions.fan_out_fan_in import first_success

# %% tests="ch04-ex4-visible" points=1
check_first_success(first_success)

# %% tests="ch04-ex4-hidden" points=2
check_first_success(first_success, durations=(1.0,), failing=(), all_fail=(2.0,))
### BEGIN HIDDEN TESTS
check_first_success(first_success, durations=(0.5, 1.0, 1.0, 4.0), failing={0, 1}, all_fail=(3.0, 1.0, 2.0, 0.25))
check_first_success(first_success, durations=(2.0, 2.0, 0.5), failing={2}, all_fail=(0.5, 0.5))
check_first_success(first_success, durations=(1.5, 0.5, 1.5), failing={1}, all_fail=(2.0, 0.75, 1.0), start=0.0)
# cancelled at each of its waits
check_first_success(first_success, cancel_each_wait=True)
check_first_success(first_success, durations=(0.5, 1.0, 1.0, 4.0), failing={0, 1}, cancel_each_wait=True)
### END HIDDEN TESTS

# %% [markdown]
# ### Your race, in pictures
#
# The three mirrors again, started in the order `eu`, `us`, `asia`: `eu` fails (red),
# `us` wins (green), `asia` is cancelled (grey) the moment `us` answers.

# %%
from coursekit.chapters.fan_out_fan_in import race_run

if exercise_done("exercise 4", first_success):
    both = {"your first_success": race_run(first_success), "reference": reference_run("fan_out_fan_in", "race_run")}
    for label, run in both.items():
        print(f"{label} returned {run.value!r}")
    show_busy_timeline(both, title="A race for the first success")

# %% [markdown]
# ## Summary
#
# | rule | what goes wrong without it | seen in |
# |---|---|---|
# | `gather` keeps input order; `as_completed` gives finishing order | results matched to the wrong input | — |
# | `gather` without `return_exceptions` does not cancel the others | work goes on, unobserved, after the caller saw the error | 000 §5 |
# | all-or-nothing work goes in a `TaskGroup`; catch with `except*` | siblings left running; `except X` misses the `ExceptionGroup` | — |
# | one HTTP client (one connection pool) for many requests | every request pays new handshakes; sockets pile up | 000 §5, §8 |
# | call `raise_for_status()` | a 503 page is taken for content | — |
# | a merged stream owns its forwarders: cancel, await, close the streams | forwarders read forever after the reader left | 002 §14.3 (Go) |
# | close async generators with `aclosing` | `break` leaves the generator suspended until garbage collection | — |
# | a race is won by the first **success**; cancel and await the losers | a fast failure loses the race; losers keep running | 000 §7 |
#
# Libraries: `anyio` offers task groups with the same cancel-the-siblings rule (and
# `anyio.create_memory_object_stream` for fan-in); `aiometer.run_all` and `amap` run
# fan-outs with a concurrency limit (chapter 2). Next: chapter 5, timeouts and cancellation.

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

check_my_work("fan_out_fan_in.ipynb")
