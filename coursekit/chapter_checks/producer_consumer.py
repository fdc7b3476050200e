"""Chapter 1 checks: consumer, run_pipeline and serve (see solutions/producer_consumer.py).

Each ``check_*`` runs the learner's function on a virtual clock against a
:class:`~coursekit.workload.Workload`, then walks a :class:`~coursekit.checks.Chain`:
defined -> runs -> terminates -> correct -> respects limits. It returns the
run is silent when everything holds but for the ✓ lines.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

from coursekit.analysis import peak_in_flight
from coursekit.checks import Chain, describe_dict_difference, describe_values, learner_facing
from coursekit.events import Event, emit
from coursekit.queues import STOP, TracedQueue
from coursekit.virtual_time import VirtualRun, run_virtual
from coursekit.workload import ItemFailed, Workload, find_item_failure

DEADLINE = 120.0  # simulated seconds; every scenario below needs far less


# ---------------------------------------------------------------- consumer


@learner_facing
def check_consumer(
    consumer: Callable[..., Any],
    *,
    items: Sequence[Hashable] = (1, 2, 3, 4, 5),
    failing: Iterable[Hashable] = (3,),
    duration: float = 1.0,
) -> None:
    """One consumer drains a queue holding ``items`` then STOP."""
    chain = Chain("consumer")
    chain.require_async_function(consumer, "consumer")
    work = Workload(duration, failing)
    queue: TracedQueue = TracedQueue()
    results: dict[Hashable, Any] = {}
    failures: dict[Hashable, Exception] = {}

    async def scenario() -> None:
        for item in [*items, STOP]:
            queue.put_nowait(item)
        await consumer(queue, work, results, failures)

    run = run_virtual(scenario, deadline=DEADLINE)
    _require_ran(
        chain, run, "consumer", hang_hint=("return as soon as you take STOP; the queue holds nothing after it")
    )
    _require_each_handled_once(chain, work, items)
    _require_outcomes(chain, work, items, results, failures)
    extra_puts = queue.put_count - (len(items) + 1)
    chain.require(
        extra_puts == 0,
        "consumer puts nothing back into the queue",
        observed=f"consumer put {extra_puts} item(s) into the queue it consumes from",
        hint="every consumer gets its own STOP, so do not put STOP back (document 001 does): "
        "a STOP nobody takes is never marked task_done(), and queue.join() never returns",
    )
    _require_task_done_per_get(chain, run, queue)


@learner_facing
def check_consumer_cancelled(consumer: Callable[..., Any], *, cancel_at: float = 1.5) -> None:
    """A consumer cancelled while handling an item still marks that item done."""
    chain = Chain("consumer")
    chain.require_async_function(consumer, "consumer")
    work = Workload(1.0)
    queue: TracedQueue = TracedQueue()
    task_state: dict[str, bool] = {}

    async def scenario() -> None:
        for item in [1, 2, 3, 4, STOP]:
            queue.put_nowait(item)
        task = asyncio.create_task(consumer(queue, work, {}, {}), name="consumer-1")
        await asyncio.sleep(cancel_at)
        task.cancel()
        await asyncio.wait({task})
        task_state["cancelled"] = task.cancelled()

    run = run_virtual(scenario, deadline=DEADLINE)
    _require_ran(chain, run, "the cancellation scenario")
    chain.require(
        task_state.get("cancelled", False),
        "a cancelled consumer ends as cancelled",
        observed="the consumer task did not end as cancelled after task.cancel()",
        hint="never swallow CancelledError: `except Exception` does not catch it, "
        "`except BaseException` or a bare `except:` does",
    )
    taken = len(run.of_kind("queue.get"))
    chain.require(
        queue.done_count == taken,
        "the item a cancelled consumer was handling is still marked task_done()",
        observed=f"it took {taken} item(s) and marked {queue.done_count} done before it was cancelled",
        hint="call queue.task_done() in a `finally:` block so it runs on cancellation too",
    )


# ------------------------------------------------------------ run_pipeline


@learner_facing
def check_run_pipeline(
    run_pipeline: Callable[..., Any],
    *,
    sources: Sequence[Sequence[Hashable]] = (range(1, 9), range(101, 109)),
    consumers: int = 3,
    maxsize: int = 4,
    duration: float = 1.0,
    failing: Iterable[Hashable] = (5,),
) -> None:
    """Producers (one per source) and consumers on a bounded queue; all items handled."""
    chain = Chain("run_pipeline")
    chain.require_async_function(run_pipeline, "run_pipeline")
    work = Workload(duration, failing)
    items = [item for source in sources for item in source]
    run = run_virtual(lambda: run_pipeline(sources, work, consumers=consumers, maxsize=maxsize), deadline=DEADLINE)
    _require_ran(chain, run, "run_pipeline", hang_hint=_pipeline_hang_hint(run, consumers))
    results, failures = _require_pair(chain, run, "run_pipeline")
    _require_each_handled_once(
        chain,
        work,
        items,
        lost_hint=(
            "return only after every consumer has finished: they finish when they take their STOP. "
            "Guessing with asyncio.sleep() (document 004) loses items whenever the guess is short"
        ),
    )
    _require_outcomes(chain, work, items, results, failures)
    chain.require_no_leftover_tasks(run, "run_pipeline")
    _require_bounded_queue(chain, run, maxsize)
    _require_stop_per_consumer(chain, run, consumers)
    _require_concurrency(chain, run, min(consumers, len(items)), consumers)


@learner_facing
def check_run_pipeline_cancelled(run_pipeline: Callable[..., Any], *, cancel_at: float = 2.5) -> None:
    """Cancelling run_pipeline midway leaves none of its tasks running."""
    chain = Chain("run_pipeline")
    chain.require_async_function(run_pipeline, "run_pipeline")
    outcome: dict[str, bool] = {}

    async def scenario() -> None:
        pipeline = asyncio.create_task(
            run_pipeline([range(10), range(100, 110)], Workload(1.0), consumers=3, maxsize=4), name="pipeline"
        )
        await asyncio.sleep(cancel_at)
        pipeline.cancel()
        await asyncio.wait({pipeline})
        outcome["cancelled"] = pipeline.cancelled()
        await asyncio.sleep(0)  # let anything it left behind show itself

    run = run_virtual(scenario, deadline=DEADLINE)
    _require_ran(chain, run, "the cancellation scenario")
    chain.require(
        outcome.get("cancelled", False),
        "cancelling run_pipeline makes it end as cancelled",
        observed="after pipeline.cancel() the task did not end as cancelled",
        hint="let CancelledError propagate; do not catch it",
    )
    chain.require(
        not run.leftover,
        "cancelling run_pipeline also cancels every task it started",
        observed=lambda: "; ".join(task.describe() for task in run.leftover),
        hint="start producers and consumers inside `async with asyncio.TaskGroup()`: "
        "cancelling the pipeline then cancels them and waits for them",
    )


# ------------------------------------------------------------------- serve


@learner_facing
def check_serve(
    serve: Callable[..., Any],
    *,
    items: int = 1000,
    every: float = 0.5,
    stop_at: float | None = 6.25,
    consumers: int = 2,
    maxsize: int = 3,
    duration: float = 1.0,
) -> None:
    """Items arrive every ``every`` s; ``stop`` is set at ``stop_at`` (never if None)."""
    chain = Chain("serve")
    chain.require_async_function(serve, "serve")
    work = Workload(duration)

    async def arrivals():  # the source: item i becomes available at (i + 1) * every
        for item in range(items):
            await asyncio.sleep(every)
            emit("source.take", item=item)
            yield item

    async def scenario() -> Any:
        stop = asyncio.Event()
        if stop_at is not None:
            asyncio.get_running_loop().call_at(stop_at, stop.set)
        return await serve(arrivals(), work, consumers=consumers, maxsize=maxsize, stop=stop)

    run = run_virtual(scenario, deadline=DEADLINE)
    _require_ran(chain, run, "serve", hang_hint=_pipeline_hang_hint(run, consumers))
    results, failures = _require_pair(chain, run, "serve")
    taken = [event["item"] for event in run.of_kind("source.take")]
    if stop_at is not None:
        late = [event for event in run.of_kind("source.take") if event.time is not None and event.time > stop_at]
        chain.require(
            not late,
            "serve takes no new item from the source once stop is set",
            observed=lambda: (
                f"stop was set at t={stop_at:g} s, but serve took item {late[0]['item']} "
                f"at t={late[0].time:g} s" + (f" and {len(late) - 1} more" if len(late) > 1 else "")
            ),
            hint="wait for whichever comes first, the next item or stop.wait() "
            "(asyncio.wait(..., return_when=FIRST_COMPLETED)), and cancel the other",
        )
    _require_each_handled_once(
        chain,
        work,
        taken,
        lost_hint=(
            "an item taken from the source is a promise: after stop, still put it in the queue, "
            "then the STOPs, and let the consumers drain it"
        ),
    )
    _require_outcomes(chain, work, taken, results, failures)
    chain.require_no_leftover_tasks(run, "serve")
    if stop_at is not None:
        backlog = maxsize + consumers + 1  # queued + in hand of consumers + held by the producer
        bound = stop_at + math.ceil(backlog / consumers) * duration
        chain.require(
            run.elapsed <= bound,
            "serve drains and returns promptly after stop",
            observed=f"stop at t={stop_at:g} s, returned at t={run.elapsed:g} s (bound {bound:g} s)",
            hint="after stop, put one STOP per consumer right away and wait for the consumers",
        )
    _require_bounded_queue(chain, run, maxsize)


# ----------------------------------------------------------- shared links


def _require_ran(chain: Chain, run: VirtualRun[Any], what: str, hang_hint: str | None = None) -> None:
    failed_item = find_item_failure(run.error)
    if failed_item is not None:
        chain.fail(
            f"{what} keeps going when handle(item) raises",
            observed=f"handle() raised {failed_item!r} and it escaped",
            hint="wrap `await handle(item)` in try/except Exception, store the exception in "
            "failures[item], and go on with the next item",
        )
    chain.require_finished(run, what, hang_hint=hang_hint)


def _require_pair(chain: Chain, run: VirtualRun[Any], what: str) -> tuple[dict[Any, Any], dict[Any, Any]]:
    value = run.unwrap()  # callers checked with _require_ran that the run returned
    is_pair = isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], dict) and isinstance(value[1], dict)
    chain.require(
        is_pair,
        f"{what} returns (results, failures)",
        observed=f"it returned {value!r:.120}",
        hint="end with `return results, failures` (two dicts)",
    )
    return value


def _require_each_handled_once(
    chain: Chain, work: Workload, items: Iterable[Hashable], lost_hint: str = "take items until STOP; handle each one"
) -> None:
    expected = list(items)
    lost = [item for item in expected if work.completed[item] == 0]
    cut_short = [item for item in lost if work.calls[item]]
    chain.require(
        not lost,
        "every item is handled",
        observed=lambda: (
            f"{len(lost)} of {len(expected)} items were never handled: {describe_values(lost)}"
            + (f" ({len(cut_short)} of them were started, then cancelled midway)" if cut_short else "")
        ),
        hint=lost_hint,
    )
    repeated = sorted((item for item, calls in work.calls.items() if calls > 1), key=repr)
    chain.require(
        not repeated,
        "no item is handled twice",
        observed=lambda: f"handled more than once: {describe_values(repeated)}",
        hint="each item taken from the queue is handled by exactly one consumer, once",
    )


def _require_outcomes(
    chain: Chain, work: Workload, items: Iterable[Hashable], results: dict[Any, Any], failures: dict[Any, Any]
) -> None:
    items = list(items)
    expected_results = {item: work.expected(item) for item in items if item not in work.failing}
    expected_failures = {item for item in items if item in work.failing}
    chain.require(
        results == expected_results,
        "results[item] holds what handle(item) returned",
        observed=lambda: describe_dict_difference(results, expected_results, "results"),
        hint="store `results[item] = await handle(item)` for every item that did not fail",
    )
    wrong = {item: error for item, error in failures.items() if not isinstance(error, ItemFailed)}
    chain.require(
        set(failures) == expected_failures and not wrong,
        "failures[item] holds the exception handle(item) raised",
        observed=lambda: (
            f"failures has keys {describe_values(sorted(failures, key=repr))}, "
            f"expected {describe_values(sorted(expected_failures, key=repr))}"
        ),
        hint="in `except Exception as error:` store `failures[item] = error`",
    )


def _require_task_done_per_get(chain: Chain, run: VirtualRun[Any], queue: TracedQueue) -> None:
    missing = _taken_without_task_done(run.events)
    chain.require(
        not missing,
        "every item taken, STOP included, is marked task_done()",
        observed=lambda: (
            f"took {len(run.of_kind('queue.get'))} items, called task_done() "
            f"{queue.done_count} times; never marked done: {describe_values(missing)}"
        ),
        hint=(
            "the STOP you take needs task_done() too"
            if missing == [STOP]
            else "call queue.task_done() in a `finally:` block, so it also runs when "
            "handle() raises or you `continue`; otherwise queue.join() never returns"
        ),
    )


def _require_bounded_queue(chain: Chain, run: VirtualRun[Any], maxsize: int) -> None:
    puts = run.of_kind("queue.put")
    chain.require(
        bool(puts),
        "the pipeline's queue is a TracedQueue",
        observed="no queue events were recorded, so the checks cannot see your queue",
        hint="create the queue with `TracedQueue(maxsize)` (it is an asyncio.Queue that reports)",
    )
    sizes = sorted({event["maxsize"] for event in puts})
    peak = max(event["depth"] for event in puts)
    chain.require(
        sizes == [maxsize] and peak <= maxsize,
        f"the queue is bounded to maxsize={maxsize}",
        observed=f"queue maxsize {' and '.join(map(str, sizes))} (0 = unbounded); up to {peak} items waited in it",
        hint="pass maxsize to the queue: when it is full, put() waits, and that "
        "backpressure keeps fast producers from piling up memory (document 004, pitfall 1)",
    )


def _require_stop_per_consumer(chain: Chain, run: VirtualRun[Any], consumers: int) -> None:
    stops = _stops_put(run)
    chain.require(
        stops == consumers,
        "one STOP is put per consumer",
        observed=f"{stops} STOP(s) put for {consumers} consumers",
        hint="after the producers finish, put exactly one STOP for each consumer",
    )


def _require_concurrency(chain: Chain, run: VirtualRun[Any], expected: int, consumers: int) -> None:
    peak = peak_in_flight(run.events)
    plural = "s" if consumers != 1 else ""
    chain.require(
        peak == expected,
        f"{consumers} consumer{plural} handle items at the same time",
        observed=f"at most {peak} item(s) were being handled at once",
        hint="start every consumer as its own task before waiting on any of them",
    )


def _pipeline_hang_hint(run: VirtualRun[Any], consumers: int) -> str:
    waits = " ".join(task.waiting_on for task in run.stuck)
    if "queue.get()" in waits and _stops_put(run) < consumers:
        return (
            f"only {_stops_put(run)} STOP(s) were put for {consumers} consumers: each consumer "
            "ends when it takes a STOP, so put one per consumer"
        )
    if "queue.join()" in waits:
        return "queue.join() waits until every put, STOP included, got its task_done()"
    if "queue.put()" in waits:
        return "a put() waits while the queue is full: is every consumer still taking items?"
    return "look at what each task above was waiting for: who should have woken it?"


# --------------------------------------------------------- event analysis


def _stops_put(run: VirtualRun[Any]) -> int:
    return sum(1 for event in run.of_kind("queue.put") if event["item"] is STOP)


def _taken_without_task_done(events: list[Event]) -> list[Any]:
    """Items each task took with get() and did not mark done before its next get() or the end."""
    holding: dict[str | None, Any] = {}
    missing: list[Any] = []
    for event in events:
        if event.kind == "queue.get":
            if event.task in holding:
                missing.append(holding[event.task])
            holding[event.task] = event["item"]
        elif event.kind == "queue.task_done":
            holding.pop(event.task, None)
    return missing + list(holding.values())
