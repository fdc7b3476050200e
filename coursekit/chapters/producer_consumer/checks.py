"""Chapter 1 checks: consumer, run_pipeline and serve (see solutions/producer_consumer.py).

Each ``check_*`` runs the learner's function on a virtual clock against a
:class:`~coursekit.workload.Workload`, then walks a :class:`~coursekit.checks.Chain`:
defined -> runs -> terminates -> correct -> respects limits. It is silent when
everything holds but for the ✓ lines; ``learner_facing`` adds the scenario (the check's
call) to a failure.

Items may repeat (each occurrence is handled once; ``results[item]`` is the same for
every occurrence), and the scenarios with ``start`` run on a clock that does not start
at 0. What is checked is what the statements promise, not one schedule: which consumer
takes which item, and the order in which the consumers take items, are free.

Each check is a scenario (a function that runs the learner's code and returns the run) plus
named properties, each a function of what the scenario saw with its own hints.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Coroutine, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from coursekit.analysis import peak_in_flight
from coursekit.chapters.producer_consumer.analysis import stops_put, taken_without_task_done, task_done_before_handled
from coursekit.checks import (
    Chain,
    describe_dict_difference,
    describe_values,
    leaf_exceptions,
    learner_facing,
)
from coursekit.events import Kind, emit
from coursekit.queues import STOP, TracedQueue
from coursekit.scenario import (
    Outcome,
    cancellation_sweep,
    cancelled_at,
    ends_cancelled_at_each_wait,
    leaves_no_task_at_any_wait,
)
from coursekit.virtual_time import VirtualRun, run_virtual
from coursekit.workload import ItemFailed, Workload

DEADLINE = 120.0  # simulated seconds; every scenario below needs far less

# ---------------------------------------------------------------- the learner's functions

Handle = Callable[[Any], Awaitable[Any]]  # handle(item), the workload
Consumer = Callable[[TracedQueue[Any], Handle, dict[Any, Any], dict[Any, Any]], Coroutine[Any, Any, None]]


class RunPipeline(Protocol):
    """``run_pipeline(sources, handle, *, consumers, maxsize)``, returning (results, failures)."""

    def __call__(
        self, sources: Sequence[Iterable[Any]], handle: Handle, /, *, consumers: int, maxsize: int
    ) -> Coroutine[Any, Any, object]: ...


class Serve(Protocol):
    """``serve(source, handle, *, consumers, maxsize, stop)``, returning (results, failures)."""

    def __call__(
        self, source: AsyncIterable[Any], handle: Handle, /, *, consumers: int, maxsize: int, stop: asyncio.Event
    ) -> Awaitable[object]: ...


# ------------------------------------------------------ every kind of Exception


class ItemError(Exception):
    """Marks the errors :class:`EveryKindOfFailure` raises: each is also a built-in Exception class."""


class ItemValueError(ItemError, ValueError): ...


class ItemKeyError(ItemError, KeyError): ...


class ItemOSError(ItemError, OSError): ...


class ItemTimeoutError(ItemError, TimeoutError): ...


class ItemRuntimeError(ItemError, RuntimeError): ...


class ItemZeroDivisionError(ItemError, ZeroDivisionError): ...


FAILURE_KINDS: tuple[type[Exception], ...] = (
    ItemFailed,
    ItemValueError,
    ItemKeyError,
    ItemOSError,
    ItemTimeoutError,
    ItemRuntimeError,
    ItemZeroDivisionError,
)


class EveryKindOfFailure(Workload):
    """A Workload whose failing items raise Exceptions of every kind in :data:`FAILURE_KINDS` (the n-th
    failing item, in repr order, the n-th kind, cycled): a statement's "an `Exception`" is the whole
    class, so its checks draw the failures from all of it, not only ItemFailed."""

    def __init__(self, duration: float | Callable[[Any], float] = 1.0, failing: Iterable[Hashable] = ()) -> None:
        super().__init__(duration, failing)
        ordered = sorted(self.failing, key=repr)
        self.kind_of = {item: FAILURE_KINDS[index % len(FAILURE_KINDS)] for index, item in enumerate(ordered)}

    async def __call__(self, item: Hashable) -> tuple[str, Hashable]:
        try:
            return await super().__call__(item)
        except ItemFailed as error:
            kind = self.kind_of[item]
            if kind is ItemFailed:
                raise
            raise kind(str(error)) from None


def is_item_failure(error: object) -> bool:
    """``error`` is what a workload raised for a failing item (ItemFailed, or a kind of EveryKindOfFailure)."""
    return isinstance(error, ItemFailed | ItemError)


def find_failure(error: BaseException | None) -> BaseException | None:
    """The item failure in ``error`` (alone or inside an exception group), if any."""
    if isinstance(error, BaseExceptionGroup):
        match, _ = error.split((ItemFailed, ItemError))
        return next(iter(leaf_exceptions(match)), None) if match is not None else None
    return error if is_item_failure(error) else None


# ---------------------------------------------------------------- consumer


@dataclass
class Drained:
    """A consumer's run on a queue the scenario filled: the run, the queue, what handle did, the dicts."""

    run: VirtualRun[Any]
    queue: TracedQueue[Any]
    work: Workload
    results: dict[Hashable, Any]
    failures: dict[Hashable, Exception]


def _drain(consumer: Consumer, items: Sequence[Hashable], work: Workload) -> Drained:
    """One consumer drains a queue holding ``items`` then STOP."""
    queue: TracedQueue[Any] = TracedQueue()
    results: dict[Hashable, Any] = {}
    failures: dict[Hashable, Exception] = {}

    async def scenario() -> None:
        for item in [*items, STOP]:
            queue.put_nowait(item)
        await consumer(queue, work, results, failures)

    return Drained(run_virtual(scenario, deadline=DEADLINE), queue, work, results, failures)


def puts_nothing_back(chain: Chain, queue: TracedQueue[Any], items: Sequence[Hashable]) -> None:
    extra_puts = queue.put_count - (len(items) + 1)
    chain.require(
        extra_puts == 0,
        "consumer puts nothing back into the queue",
        observed=f"consumer put {extra_puts} item(s) into the queue it consumes from",
        hint="every consumer gets its own STOP, so do not put STOP back (document 001 does): "
        "a STOP nobody takes is never marked task_done(), and queue.join() never returns",
    )


def every_taken_item_is_marked_done(chain: Chain, run: VirtualRun[Any], queue: TracedQueue[Any]) -> None:
    missing = taken_without_task_done(run.events)
    chain.require(
        not missing,
        "every item taken, STOP included, is marked task_done()",
        observed=lambda: (
            f"took {len(run.of_kind(Kind.QUEUE_GET))} items, called task_done() "
            f"{queue.done_count} times; never marked done: {describe_values(missing)}"
        ),
        hint=(
            "the STOP you take needs task_done() too"
            if missing == [STOP]
            else "call queue.task_done() in a `finally:` block, so it also runs when "
            "handle() raises or you `continue`; otherwise queue.join() never returns"
        ),
    )


def task_done_only_once_handled(chain: Chain, run: VirtualRun[Any]) -> None:
    early = task_done_before_handled(run.events)
    chain.require(
        not early,
        "each item is marked task_done() only once it has been handled",
        observed=lambda: (
            f"task_done() for item {early[0]!r} was called while handle({early[0]!r}) had not finished"
            + (f" (and for {len(early) - 1} more item(s))" if len(early) > 1 else "")
        ),
        hint="call queue.task_done() after `await handle(item)` returned or raised (in a `finally:` around it), "
        "not when you take the item: queue.join() must mean 'every item was handled', not 'every item was taken'",
    )


@learner_facing
def check_consumer(
    consumer: Consumer,
    *,
    items: Sequence[Hashable] = (1, 2, 3, 4, 5),
    failing: Iterable[Hashable] = (3,),
    duration: float = 1.0,
    every_kind: bool = False,
) -> None:
    """One consumer drains a queue holding ``items`` then STOP. With ``every_kind``, the failing items
    raise Exceptions of every kind (ItemFailed, ValueError, KeyError, OSError, TimeoutError, RuntimeError,
    ZeroDivisionError), not only ItemFailed."""
    chain = Chain("consumer")
    chain.require_async_function(consumer, "consumer")
    seen = _drain(consumer, items, (EveryKindOfFailure if every_kind else Workload)(duration, failing))
    runs_to_the_end_whatever_handle_raises(
        chain, seen.run, "consumer", hang_hint="return as soon as you take STOP; the queue holds nothing after it"
    )
    every_item_is_handled_once(
        chain,
        seen.work,
        items,
        lost_hint="take items until you take STOP and handle each one; an item that repeats is handled "
        "again each time it is taken (do not skip items you have seen)",
    )
    outcomes_are_recorded(chain, seen.work, items, seen.results, seen.failures)
    puts_nothing_back(chain, seen.queue, items)
    every_taken_item_is_marked_done(chain, seen.run, seen.queue)
    task_done_only_once_handled(chain, seen.run)


async def _cancelled_after(work: Coroutine[Any, Any, object], name: str, cancel_at: float) -> bool:
    """Run ``work`` as a task called ``name``, cancel it at ``cancel_at``: did it end as cancelled?"""
    task = asyncio.create_task(work, name=name)
    await asyncio.sleep(cancel_at)
    task.cancel()
    await asyncio.wait({task})
    return task.cancelled()


def _cancel_consumer(consumer: Consumer, work: Workload, queue: TracedQueue[Any], cancel_at: float) -> VirtualRun[bool]:
    """A consumer on a queue holding 1, 2, 3, 4 and STOP, cancelled at ``cancel_at``; the run's value: it
    ended as cancelled."""

    async def scenario() -> bool:
        for item in [1, 2, 3, 4, STOP]:
            queue.put_nowait(item)
        return await _cancelled_after(consumer(queue, work, {}, {}), "consumer-1", cancel_at)

    return run_virtual(scenario, deadline=DEADLINE)


def a_cancelled_consumer_ends_cancelled_with_its_item_done(
    chain: Chain, run: VirtualRun[bool], queue: TracedQueue[Any]
) -> None:
    chain.require(
        bool(run.value),
        "a cancelled consumer ends as cancelled",
        observed="the consumer task did not end as cancelled after task.cancel()",
        hint="never swallow CancelledError: `except Exception` does not catch it, "
        "`except BaseException` or a bare `except:` does",
    )
    taken = len(run.of_kind(Kind.QUEUE_GET))
    chain.require(
        queue.done_count == taken,
        "the item a cancelled consumer was handling is still marked task_done()",
        observed=f"it took {taken} item(s) and marked {queue.done_count} done before it was cancelled",
        hint="call queue.task_done() in a `finally:` block so it runs on cancellation too",
    )


@learner_facing
def check_consumer_cancelled(consumer: Consumer, *, cancel_at: float = 1.5, sweep: bool = False) -> None:
    """A consumer cancelled while handling an item still marks that item done. With ``sweep``, a
    consumer is fed 1 and 2 at t=0, 3 at t=4 s, 4 and STOP at t=6 s (3 fails; calls of 1, 0.5, 2 and
    1 s), and is cancelled at each of its waits in turn (handling an item, or waiting for one): each
    time it ends cancelled, with every item it took marked task_done()."""
    chain = Chain("consumer")
    chain.require_async_function(consumer, "consumer")
    if sweep:
        consumer_cancelled_at_each_wait(chain, consumer)
        return
    queue: TracedQueue[Any] = TracedQueue()
    run = _cancel_consumer(consumer, Workload(1.0), queue, cancel_at)
    runs_to_the_end_whatever_handle_raises(chain, run, "the cancellation scenario")
    a_cancelled_consumer_ends_cancelled_with_its_item_done(chain, run, queue)


# ------------------------------------------------------------ cancellation sweeps

SWEEP_DURATIONS = {1: 1.0, 2: 0.5, 3: 2.0, 4: 1.0, 11: 1.5, 12: 0.5, 13: 1.0, 14: 2.0}
SWEEP_FAILING = (3, 13)
SWEPT_AFTER = "cancelled at t={at:g} s"


def _sweep_work() -> Workload:
    return Workload(lambda item: SWEEP_DURATIONS.get(item, 1.0), SWEEP_FAILING)


def consumer_cancelled_at_each_wait(chain: Chain, consumer: Consumer) -> None:
    queues: dict[float, TracedQueue[Any]] = {}

    def scenario(at: float) -> VirtualRun[Outcome]:
        queue: TracedQueue[Any] = TracedQueue()
        queues[at] = queue
        work = _sweep_work()

        async def feed() -> None:  # the consumer waits for an item from 1.5 s to 4 s, and from 5 s to 6 s
            for item, arrives in [(1, 0.0), (2, 0.0), (3, 4.0), (4, 6.0), (STOP, 6.0)]:
                await asyncio.sleep(arrives - asyncio.get_running_loop().time())
                queue.put_nowait(item)

        async def main() -> Outcome:
            feeder = asyncio.create_task(feed(), name="feeder")
            outcome = await cancelled_at(lambda: consumer(queue, work, {}, {}), at)
            feeder.cancel()
            await asyncio.wait({feeder})
            return outcome

        return run_virtual(main, deadline=DEADLINE)

    swept = cancellation_sweep(chain, "consumer", scenario)
    raised = next((one.outcome.error for one in swept if one.outcome.error and not one.outcome.cancelled), None)
    ends_cancelled_at_each_wait(
        chain,
        "consumer",
        swept,
        hint="task_done() ran for an item the consumer had not taken (it was cancelled while waiting in get()): "
        "take the item, `item = await queue.get()`, before the `try:` whose `finally:` marks it done"
        if isinstance(raised, ValueError) and "task_done" in str(raised)
        else "never swallow CancelledError: `except Exception` does not catch it, `except BaseException` or a bare "
        "`except:` does, and so does an `except asyncio.CancelledError:` that does not re-raise",
    )
    undone = [
        (one, taken) for one in swept if (taken := len(one.run.of_kind(Kind.QUEUE_GET))) != queues[one.at].done_count
    ]
    chain.require(
        not undone,
        "a consumer cancelled at any of its waits has marked every item it took task_done()",
        observed=lambda: (
            f"consumer {SWEPT_AFTER.format(at=undone[0][0].at)} had taken {undone[0][1]} item(s) "
            f"and marked {queues[undone[0][0].at].done_count} done"
        ),
        hint="call queue.task_done() in a `finally:` around the handling of the item you took, so it runs on "
        "cancellation too (and take nothing you do not mark done)",
    )


# ------------------------------------------------------------ run_pipeline


def _pipeline(
    run_pipeline: RunPipeline,
    sources: Sequence[Sequence[Hashable]],
    work: Workload,
    consumers: int,
    maxsize: int,
    start: float,
) -> VirtualRun[object]:
    """run_pipeline(sources, work, consumers=.., maxsize=..), started at loop time ``start``."""

    async def scenario() -> object:
        await asyncio.sleep(start)
        return await run_pipeline(sources, work, consumers=consumers, maxsize=maxsize)

    return run_virtual(scenario, deadline=start + DEADLINE)


EARLIER = "an earlier call's item"


def an_earlier_call(call: Callable[[], Awaitable[object]]) -> None:
    """Run ``call`` once, on its own clock, before a check's scenario, and forget it: a function that keeps
    state from one call to the next (module-level dicts, a default argument) shows it in the scenario."""
    run_virtual(call, deadline=10.0, wall_limit=1.0)


async def _given(items: Sequence[Hashable]) -> AsyncIterator[Hashable]:
    """A source that yields ``items`` at once."""
    for item in items:
        yield item


@learner_facing
def check_run_pipeline(
    run_pipeline: RunPipeline,
    *,
    sources: Sequence[Sequence[Hashable]] = (range(1, 9), range(101, 109)),
    consumers: int = 3,
    maxsize: int = 4,
    duration: float = 1.0,
    failing: Iterable[Hashable] = (5,),
    start: float = 0.0,
) -> None:
    """Producers (one per source) and consumers on a bounded queue, started at loop time ``start``;
    all items handled."""
    chain = Chain("run_pipeline")
    chain.require_async_function(run_pipeline, "run_pipeline")
    work = Workload(duration, failing)
    items = [item for source in sources for item in source]
    an_earlier_call(lambda: run_pipeline([[EARLIER]], Workload(0.5), consumers=1, maxsize=1))
    run = _pipeline(run_pipeline, sources, work, consumers, maxsize, start)
    runs_to_the_end_whatever_handle_raises(chain, run, "run_pipeline", hang_hint=_pipeline_hang_hint(run, consumers))
    results, failures = returns_results_and_failures(chain, run, "run_pipeline")
    every_item_is_handled_once(
        chain,
        work,
        items,
        lost_hint=(
            "return only after every consumer has finished: they finish when they take their STOP. "
            "Guessing with asyncio.sleep() (document 004) loses items whenever the guess is short"
        ),
    )
    records_only_its_own_items(chain, "run_pipeline", items, results, failures)
    outcomes_are_recorded(chain, work, items, results, failures)
    chain.require_no_leftover_tasks(run, "run_pipeline")
    the_queue_is_bounded(chain, run, maxsize)
    one_producer_per_source_then_the_stops(chain, run, sources)
    one_stop_per_consumer(chain, run, consumers)
    the_consumers_work_at_once(chain, run, min(consumers, len(items)), consumers)
    the_consumers_are_named(chain, run, consumers)


def _cancel_pipeline(run_pipeline: RunPipeline, cancel_at: float) -> VirtualRun[bool]:
    """run_pipeline on two sources of 10 items, cancelled at ``cancel_at``; the run's value: it ended as
    cancelled. The run's leftover tasks are those it left behind."""

    async def scenario() -> bool:
        pipeline = run_pipeline([range(10), range(100, 110)], Workload(1.0), consumers=3, maxsize=4)
        cancelled = await _cancelled_after(pipeline, "pipeline", cancel_at)
        await asyncio.sleep(0)  # let anything it left behind show itself
        return cancelled

    return run_virtual(scenario, deadline=DEADLINE)


def cancelling_it_cancels_every_task_it_started(chain: Chain, run: VirtualRun[bool]) -> None:
    chain.require(
        bool(run.value),
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


@learner_facing
def check_run_pipeline_cancelled(run_pipeline: RunPipeline, *, cancel_at: float = 2.5, sweep: bool = False) -> None:
    """Cancelling run_pipeline midway leaves none of its tasks running. With ``sweep``, run_pipeline on
    two sources of 4 items (2 consumers, a queue of 2) is cancelled at each of its waits in turn (producers
    waiting for room, consumers handling or waiting for items, the STOPs): each time it ends cancelled and
    leaves no task running."""
    chain = Chain("run_pipeline")
    chain.require_async_function(run_pipeline, "run_pipeline")
    if sweep:
        pipeline_cancelled_at_each_wait(chain, run_pipeline)
        return
    run = _cancel_pipeline(run_pipeline, cancel_at)
    runs_to_the_end_whatever_handle_raises(chain, run, "the cancellation scenario")
    cancelling_it_cancels_every_task_it_started(chain, run)


def pipeline_cancelled_at_each_wait(chain: Chain, run_pipeline: RunPipeline) -> None:
    def scenario(at: float) -> VirtualRun[Outcome]:
        async def main() -> Outcome:
            work = _sweep_work()
            sources = [[1, 2, 3, 4], [11, 12, 13, 14]]
            outcome = await cancelled_at(lambda: run_pipeline(sources, work, consumers=2, maxsize=2), at)
            await asyncio.sleep(0)  # let anything it left behind show itself
            return outcome

        return run_virtual(main, deadline=DEADLINE)

    swept = cancellation_sweep(
        chain, "run_pipeline", scenario, hang_hint="look at what each task above was waiting for"
    )
    ends_cancelled_at_each_wait(
        chain,
        "run_pipeline",
        swept,
        hint="let CancelledError propagate out of run_pipeline: do not catch it to return the results so far "
        "(nor catch BaseException)",
    )
    leaves_no_task_at_any_wait(
        chain,
        "run_pipeline",
        swept,
        prop="run_pipeline cancelled at any of its waits leaves no task running",
        hint="start producers and consumers inside `async with asyncio.TaskGroup()`: cancelling the pipeline, "
        "wherever it waits, then cancels them and waits for them",
    )


# ------------------------------------------------------------------- serve


def _serve(
    serve: Serve,
    work: Workload,
    *,
    items: int,
    every: float,
    stop_time: float | None,
    consumers: int,
    maxsize: int,
    start: float,
) -> VirtualRun[object]:
    """Serve starts at loop time ``start`` on a source of ``items`` items, each arriving ``every`` s after serve
    asks for it; ``stop`` is set at ``stop_time`` (never if None)."""

    async def arrivals() -> AsyncIterator[int]:  # the source: each item arrives `every` s after serve asks for it
        for item in range(items):
            emit(Kind.SOURCE_ASK, item=item)
            await asyncio.sleep(every)
            emit(Kind.SOURCE_TAKE, item=item)
            yield item

    async def scenario() -> object:
        await asyncio.sleep(start)
        stop = asyncio.Event()
        if stop_time is not None:
            asyncio.get_running_loop().call_at(stop_time, stop.set)
        return await serve(arrivals(), work, consumers=consumers, maxsize=maxsize, stop=stop)

    return run_virtual(scenario, deadline=start + DEADLINE)


def takes_nothing_new_after_stop(chain: Chain, run: VirtualRun[object], stop_time: float) -> None:
    late = [event for event in run.of_kind(Kind.SOURCE_TAKE) if event.time is not None and event.time > stop_time]
    chain.require(
        not late,
        "serve takes no new item from the source once stop is set",
        observed=lambda: (
            f"stop was set at t={stop_time:g} s, but serve took item {late[0]['item']} "
            f"at t={late[0].time:g} s" + (f" and {len(late) - 1} more" if len(late) > 1 else "")
        ),
        hint="wait for whichever comes first, the next item or stop.wait() "
        "(asyncio.wait(..., return_when=FIRST_COMPLETED)), and cancel the other",
    )


def drains_promptly_after_stop(
    chain: Chain, run: VirtualRun[object], stop_time: float, maxsize: int, consumers: int, duration: float
) -> None:
    backlog = maxsize + consumers + 1  # queued + in hand of consumers + held by the producer
    bound = stop_time + math.ceil(backlog / consumers) * duration
    chain.require(
        run.elapsed <= bound,
        "serve drains and returns promptly after stop",
        observed=f"stop at t={stop_time:g} s, returned at t={run.elapsed:g} s (bound {bound:g} s)",
        hint="after stop, put one STOP per consumer right away and wait for the consumers",
    )


@learner_facing
def check_serve(
    serve: Serve,
    *,
    items: int = 1000,
    every: float = 0.5,
    stop_at: float | None = 6.25,
    consumers: int = 2,
    maxsize: int = 3,
    duration: float = 1.0,
    failing: Iterable[Hashable] = (),
    start: float = 0.0,
) -> None:
    """Serve starts at loop time ``start``; an item arrives ``every`` s after serve asks for it;
    ``stop`` is set ``stop_at`` s after the start (never if None)."""
    chain = Chain("serve")
    chain.require_async_function(serve, "serve")
    work = Workload(duration, failing)
    stop_time = None if stop_at is None else start + stop_at
    an_earlier_call(lambda: serve(_given([EARLIER]), Workload(0.5), consumers=1, maxsize=1, stop=asyncio.Event()))
    run = _serve(
        serve, work, items=items, every=every, stop_time=stop_time, consumers=consumers, maxsize=maxsize, start=start
    )
    runs_to_the_end_whatever_handle_raises(chain, run, "serve", hang_hint=_pipeline_hang_hint(run, consumers))
    results, failures = returns_results_and_failures(chain, run, "serve")
    taken = [event["item"] for event in run.of_kind(Kind.SOURCE_TAKE)]
    if stop_time is not None:
        takes_nothing_new_after_stop(chain, run, stop_time)
    takes_items_until_stop(chain, run, items, stop_time)
    every_item_is_handled_once(
        chain,
        work,
        taken,
        lost_hint=(
            "an item taken from the source is a promise: after stop, still put it in the queue, "
            "then the STOPs, and let the consumers drain it"
        ),
        cut_short_hint="items were cancelled in the middle of their handling: on stop, do not cancel the "
        "consumers; put one STOP per consumer after the items already taken, and let the consumers drain the queue",
    )
    records_only_its_own_items(chain, "serve", taken, results, failures)
    outcomes_are_recorded(chain, work, taken, results, failures)
    chain.require_no_leftover_tasks(run, "serve")
    if stop_time is not None:
        drains_promptly_after_stop(chain, run, stop_time, maxsize, consumers, duration)
    the_queue_is_bounded(chain, run, maxsize)
    the_consumers_are_named(chain, run, consumers)


@learner_facing
def check_serve_cancelled(serve: Serve) -> None:
    """Serve on a source of 8 items (one every 0.5 s after serve asks; 2 consumers, a queue of 2) is
    cancelled at each of its waits in turn: each time it ends cancelled (Python's contract for a
    cancelled call; the statement asks nothing else of a cancelled serve)."""
    chain = Chain("serve")
    chain.require_async_function(serve, "serve")

    def scenario(at: float) -> VirtualRun[Outcome]:
        async def main() -> Outcome:
            work = _sweep_work()
            call = lambda: serve(_arrivals(8, 0.5), work, consumers=2, maxsize=2, stop=asyncio.Event())  # noqa: E731
            return await cancelled_at(call, at)

        return run_virtual(main, deadline=DEADLINE)

    swept = cancellation_sweep(chain, "serve", scenario, hang_hint="look at what each task above was waiting for")
    ends_cancelled_at_each_wait(
        chain,
        "serve",
        swept,
        hint="a cancelled serve is not a stop request: let CancelledError propagate (do not catch it to drain "
        "and return the results, nor catch BaseException)",
    )


async def _arrivals(items: int, every: float) -> AsyncIterator[int]:
    """A source of ``items`` items, each arriving ``every`` s after it is asked for."""
    for item in range(items):
        await asyncio.sleep(every)
        yield item


# ----------------------------------------------------------------- repeated use

REUSE_SOURCES: tuple[tuple[Hashable, ...], ...] = ((1, 2, 3), ("a", "b"), (21, 22, 23, 24))
REUSE_FAILING = (2, "b", 23)


@dataclass
class Reused:
    """Three calls of the same function: the first alone, the other two at once. ``values`` are what each
    returned; ``first_then`` is the first call's (results, failures) as they read when it returned."""

    values: list[Any] = field(default_factory=list)  # each a (results, failures) pair once checked
    first_then: tuple[dict[Any, Any], dict[Any, Any]] | None = None


def reused(chain: Chain, what: str, call: Callable[[Sequence[Hashable], Workload], Awaitable[object]]) -> Reused:
    work = Workload(0.5, REUSE_FAILING)
    seen = Reused()

    async def main() -> None:
        first: Any = await call(REUSE_SOURCES[0], work)
        seen.values.append(first)
        if _is_pair(first):
            seen.first_then = (dict(first[0]), dict(first[1]))
        seen.values += await asyncio.gather(call(REUSE_SOURCES[1], work), call(REUSE_SOURCES[2], work))

    run = run_virtual(main, deadline=DEADLINE)
    runs_to_the_end_whatever_handle_raises(chain, run, f"three calls of {what}")
    wrong = [value for value in seen.values if not _is_pair(value)]
    chain.require(
        not wrong,
        f"{what} returns (results, failures)",
        observed=lambda: f"it returned {wrong[0]!r:.120}",
        hint="end with `return results, failures` (two dicts)",
    )
    return seen


def _is_pair(value: object) -> bool:
    return isinstance(value, tuple) and len(value) == 2 and all(isinstance(part, dict) for part in value)


def fresh_hint(what: str) -> str:
    return (
        f"make the queue and the results and failures dicts inside {what}, afresh on each call: not at module "
        "level, not as default arguments, not on the function"
    )


def records_only_its_own_items(
    chain: Chain, what: str, items: Iterable[Hashable], results: dict[Any, Any], failures: dict[Any, Any]
) -> None:
    """What one call of ``what`` returned holds no item it was not given (an earlier call's, say)."""
    others = sorted({*results, *failures} - set(items), key=repr)
    chain.require(
        not others,
        f"{what} records the outcomes of its own items only",
        observed=lambda: (
            f"it returned outcomes for {describe_values(others)}, items this call was never given (an earlier call's?)"
        ),
        hint=fresh_hint(what),
    )


def each_call_records_only_its_own_items(chain: Chain, what: str, seen: Reused) -> None:
    """Every call's (results, failures) hold exactly its own items, and the first call's did not change
    when the others ran."""
    work = Workload(0.5, REUSE_FAILING)
    foreign = []
    for number, (items, value) in enumerate(zip(REUSE_SOURCES, seen.values, strict=True), start=1):
        results, failures = value
        others = sorted({*results, *failures} - set(items), key=repr)
        if others:
            foreign.append(f"call {number} (items {list(items)}) returned outcomes for {describe_values(others)}")
    chain.require(
        not foreign,
        f"each call of {what} records the outcomes of its own items only",
        observed=lambda: f"{what} was called three times (the second and third at once): " + "; ".join(foreign),
        hint=fresh_hint(what),
    )
    first = seen.values[0]
    chain.require(
        seen.first_then is None or (dict(first[0]), dict(first[1])) == seen.first_then,
        f"what {what} returned does not change when it is called again",
        observed=lambda: (
            f"the first call returned {seen.first_then!r:.100}; after two more calls it read {first!r:.100}"
        ),
        hint=fresh_hint(what),
    )
    calls = list(zip(REUSE_SOURCES, seen.values, strict=True))
    items, (results, failures) = next(  # the first call whose outcomes are wrong, else the first
        (
            (items, value)
            for items, value in calls
            if value[0] != {item: work.expected(item) for item in items if item not in work.failing}
            or set(value[1]) != set(items) & work.failing
        ),
        calls[0],
    )
    outcomes_are_recorded(chain, work, items, results, failures)


@learner_facing
def check_run_pipeline_reused(run_pipeline: RunPipeline) -> None:
    """run_pipeline called three times: on one source of 3 items, then on a source of 2 and a source of 4
    at once. Each call returns the outcomes of its own items, and the first call's do not change."""
    chain = Chain("run_pipeline")
    chain.require_async_function(run_pipeline, "run_pipeline")
    seen = reused(chain, "run_pipeline", lambda items, work: run_pipeline([list(items)], work, consumers=2, maxsize=2))
    each_call_records_only_its_own_items(chain, "run_pipeline", seen)


@learner_facing
def check_serve_reused(serve: Serve) -> None:
    """serve called three times, each until its source ends: on a source of 3 items, then on a source of 2
    and a source of 4 at once. Each call returns the outcomes of its own items, and the first call's do not
    change."""
    chain = Chain("serve")
    chain.require_async_function(serve, "serve")

    async def feed(items: Sequence[Hashable]) -> AsyncIterator[Hashable]:
        for item in items:
            await asyncio.sleep(0.25)
            yield item

    seen = reused(
        chain,
        "serve",
        lambda items, work: serve(feed(items), work, consumers=2, maxsize=2, stop=asyncio.Event()),
    )
    each_call_records_only_its_own_items(chain, "serve", seen)


# ----------------------------------------------------------- properties several checks share


def runs_to_the_end_whatever_handle_raises(
    chain: Chain, run: VirtualRun[Any], what: str, hang_hint: str | None = None
) -> None:
    failed_item = find_failure(run.error)
    if failed_item is not None:
        chain.fail(
            f"{what} keeps going when handle(item) raises",
            observed=f"handle() raised {failed_item!r} and it escaped",
            hint="catch `Exception` itself: an `except` for some kinds of error only (ItemFailed, ValueError, ...) "
            f"lets any other kind (here {type(failed_item).__name__}) kill the consumer"
            if isinstance(failed_item, ItemError)
            else "wrap `await handle(item)` in try/except Exception, store the exception in "
            "failures[item], and go on with the next item",
        )
    chain.require_finished(run, what, hang_hint=hang_hint)


def returns_results_and_failures(
    chain: Chain, run: VirtualRun[Any], what: str
) -> tuple[dict[Any, Any], dict[Any, Any]]:
    value = run.unwrap()  # callers checked with runs_to_the_end_whatever_handle_raises that it returned
    is_pair = isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], dict) and isinstance(value[1], dict)
    chain.require(
        is_pair,
        f"{what} returns (results, failures)",
        observed=f"it returned {value!r:.120}",
        hint="end with `return results, failures` (two dicts)",
    )
    results, failures = value
    return results, failures


def every_item_is_handled_once(
    chain: Chain,
    work: Workload,
    items: Iterable[Hashable],
    lost_hint: str = "take items until STOP; handle each one",
    *,
    cut_short_hint: str | None = None,
) -> None:
    """Each occurrence of an item is handled once; ``cut_short_hint`` replaces ``lost_hint`` when some lost
    item was started and then cancelled midway."""
    expected = list(items)
    wanted = Counter(expected)
    lost = [item for item in wanted if work.completed[item] < wanted[item]]
    cut_short = [item for item in lost if work.calls[item] > work.completed[item]]
    missing = sum(wanted[item] - work.completed[item] for item in lost)

    def describe_lost() -> str:
        repeats = [item for item in lost if wanted[item] > 1]
        return (
            f"{missing} of {len(expected)} items were never handled: {describe_values(lost)}"
            + (f" ({len(cut_short)} of them were started, then cancelled midway)" if cut_short else "")
            + (
                f"; {describe_values(repeats)} appear{'s' if len(repeats) == 1 else ''} more than once in the "
                "input, and each occurrence must be handled"
                if repeats
                else ""
            )
        )

    chain.require(
        not lost,
        "every item is handled",
        observed=describe_lost,
        hint=cut_short_hint if cut_short and cut_short_hint else lost_hint,
    )
    repeated = sorted((item for item, calls in work.calls.items() if calls > wanted[item]), key=repr)
    chain.require(
        not repeated,
        "no item is handled twice",
        observed=lambda: "; ".join(
            f"handle({item!r}) was called {work.calls[item]} times for {wanted[item]} "
            f"occurrence{'s' if wanted[item] != 1 else ''}"
            for item in repeated[:3]
        ),
        hint="each item taken from the queue is handled by exactly one consumer, once",
    )


def outcomes_are_recorded(
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
    wrong = {item: error for item, error in failures.items() if not is_item_failure(error)}

    def describe_failures() -> str:
        if set(failures) != expected_failures:
            return describe_dict_difference(
                {item: "an exception" for item in failures},
                {item: "an exception" for item in expected_failures},
                "failures",
            )
        item, value = next(iter(wrong.items()))
        return f"failures[{item!r}] is {value!r} (a {type(value).__name__}), not the exception that handle raised"

    chain.require(
        set(failures) == expected_failures and not wrong,
        "failures[item] holds the exception handle(item) raised",
        observed=describe_failures,
        hint="in `except Exception as error:` store the exception itself, `failures[item] = error` "
        "(not str(error), not its type)"
        if set(failures) == expected_failures
        else "in `except Exception as error:` store `failures[item] = error`, for failing items only",
    )


def the_queue_is_bounded(chain: Chain, run: VirtualRun[Any], maxsize: int) -> None:
    puts = run.of_kind(Kind.QUEUE_PUT)
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
        hint="the queue's bound is maxsize itself: `TracedQueue(maxsize)`, not one more or one less (a STOP "
        "waits for room like any item, it needs no slot of its own)"
        if len(sizes) == 1 and sizes[0] > 0 and sizes[0] != maxsize
        else "pass maxsize to the queue: when it is full, put() waits, and that "
        "backpressure keeps fast producers from piling up memory (document 004, pitfall 1)",
    )


def one_producer_per_source_then_the_stops(
    chain: Chain, run: VirtualRun[Any], sources: Sequence[Iterable[Hashable]]
) -> None:
    """One producer task per non-empty source put its items, in order; every STOP after the last item."""
    put_by: dict[str | None, list[Any]] = {}
    for event in run.of_kind(Kind.QUEUE_PUT):
        if event["item"] is not STOP:
            put_by.setdefault(event.task, []).append(event["item"])
    wanted = [list(source) for source in sources if list(source)]
    seen = list(put_by.values())
    one_task = len(wanted) > 1 and len(seen) == 1
    chain.require(
        sorted(map(repr, seen)) == sorted(map(repr, wanted)),
        "one producer task per source puts that source's items, in order",
        observed=lambda: (
            f"all {sum(map(len, seen))} items of the {len(wanted)} sources were put by one task, {next(iter(put_by))!r}"
            if one_task
            else "the tasks that put items put: "
            + "; ".join(f"{task!r}: {describe_values(values)}" for task, values in put_by.items())
        ),
        hint="start one producer task for each source (each puts its own source's items, in order), "
        "so that the sources are read concurrently: one slow source must not hold up the others"
        if one_task
        else "each producer puts exactly the items of its own source, in the source's order, and nothing else",
    )
    puts = run.of_kind(Kind.QUEUE_PUT)
    last_item = max((index for index, event in enumerate(puts) if event["item"] is not STOP), default=-1)
    early = [index for index, event in enumerate(puts) if event["item"] is STOP and index < last_item]
    chain.require(
        not early,
        "the STOPs are put after the last item",
        observed=lambda: f"a STOP was put before item {puts[last_item]['item']!r}, the last item put",
        hint="wait until every producer has finished (e.g. an inner TaskGroup, or gather), then put the STOPs: "
        "a consumer that takes its STOP early leaves the items behind it to the others",
    )


def the_consumers_are_named(chain: Chain, run: VirtualRun[Any], consumers: int) -> None:
    names = sorted({event.task or "?" for event in run.of_kind(Kind.QUEUE_GET)})
    expected = [f"consumer-{number}" for number in range(1, consumers + 1)]
    chain.require(
        names == sorted(expected),
        "the consumers are tasks named "
        + (", ".join(expected) if consumers <= 3 else f"consumer-1 ... {expected[-1]}"),
        observed=f"the tasks that took items from the queue were named {describe_values(names)}",
        hint='name each consumer task when you create it: create_task(consumer(...), name=f"consumer-{number}"), '
        "numbered from 1",
    )


def takes_items_until_stop(chain: Chain, run: VirtualRun[Any], items: int, stop_time: float | None) -> None:
    """Until stop (or the source's end), serve is always waiting for the next item or for room in the queue."""
    takes = run.of_kind(Kind.SOURCE_TAKE)
    if stop_time is None:
        chain.require(
            len(takes) == items,
            "serve takes every item of the source until it ends",
            observed=f"the source had {items} items; serve took {len(takes)} and returned at t={run.elapsed:g} s",
            hint="feed the consumers in a loop that ends only when the source ends (StopAsyncIteration, "
            "or the end of `async for`) or stop is set",
        )
        return
    asks = [event for event in run.of_kind(Kind.SOURCE_ASK) if (event.time or 0.0) <= stop_time]
    taken_by_stop = [event for event in takes if (event.time or 0.0) <= stop_time]
    puts_after = {event["item"] for event in run.of_kind(Kind.QUEUE_PUT) if (event.time or 0.0) > stop_time}
    blocked = [
        event
        for event in run.of_kind(Kind.QUEUE_FULL)
        if event["item"] is not STOP and (event.time or 0.0) <= stop_time and event["item"] in puts_after
    ]
    busy = len(asks) > len(taken_by_stop) or bool(blocked) or len(taken_by_stop) == items
    chain.require(
        busy,
        "serve keeps taking items from the source until stop is set",
        observed=lambda: (
            f"when stop was set at t={stop_time:g} s, serve had taken {len(taken_by_stop)} items and was "
            "waiting neither for the next item nor for room in the queue, though the source had more"
        ),
        hint="feed the consumers in a loop that runs until the source ends or stop is set: do not end the "
        "intake after a fixed number of items, when the queue is empty, or on a timer",
    )


def one_stop_per_consumer(chain: Chain, run: VirtualRun[Any], consumers: int) -> None:
    stops = stops_put(run.events)
    chain.require(
        stops == consumers,
        "one STOP is put per consumer",
        observed=f"{stops} STOP(s) put for {consumers} consumers",
        hint="after the producers finish, put exactly one STOP for each consumer",
    )


def the_consumers_work_at_once(chain: Chain, run: VirtualRun[Any], expected: int, consumers: int) -> None:
    peak = peak_in_flight(run.events)
    plural = "s" if consumers != 1 else ""
    chain.require(
        peak == expected,
        f"{consumers} consumer{plural} handle items at the same time",
        observed=f"at most {peak} item(s) were being handled at once",
        hint="start every consumer as its own task before waiting on any of them",
    )


def _pipeline_hang_hint(run: VirtualRun[Any], consumers: int) -> str:
    waits = " ".join(task.waiting_on for task in run.stuck).lower()
    puts = run.of_kind(Kind.QUEUE_PUT)
    stop_first = next((i for i, event in enumerate(puts) if event["item"] is STOP), None)
    if "queue.put()" in waits and stop_first is not None and any(e["item"] is not STOP for e in puts[stop_first:]):
        return (
            "the consumers took their STOPs and ended while producers still had items to put: put the STOPs "
            "only after every producer has finished"
        )
    if "queue.get()" in waits and stops_put(run.events) < consumers:
        return (
            f"only {stops_put(run.events)} STOP(s) were put for {consumers} consumers: each consumer "
            "ends when it takes a STOP, so put one per consumer"
        )
    if "queue.join()" in waits:
        return "queue.join() waits until every put, STOP included, got its task_done()"
    if "queue.put()" in waits:
        return "a put() waits while the queue is full: is every consumer still taking items?"
    return "look at what each task above was waiting for: who should have woken it?"
