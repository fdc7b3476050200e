"""Chapter 3 checks: collect_batch, deliver, batch_loop, process_in_chunks (see solutions/batching.py).

Each ``check_*`` runs the learner's function on a virtual clock against a
:class:`~coursekit.workload.BatchWorkload` (a fake batch API) and walks a
:class:`~coursekit.checks.Chain`: defined -> runs -> terminates -> correct ->
respects limits. The default arguments are the scenario the learner sees; each
default scenario covers every rule of its exercise, so one call finds any mistake.

The expected batches come from :func:`expected_batches`, a plain simulation of
the rule: a batch closes when full, or ``max_wait`` s after its first entry was
taken, or at once when it takes STOP. Scenarios never put an entry at exactly a
deadline (the one instant the rule leaves open).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from coursekit.analysis import peak_in_flight
from coursekit.checks import Chain, describe_error, describe_values, learner_facing
from coursekit.queues import STOP, TracedQueue
from coursekit.virtual_time import VirtualRun, run_virtual
from coursekit.workload import BatchWorkload, ItemFailed, Workload, find_item_failure

DEADLINE = 120.0  # simulated seconds; every scenario below needs far less
Arrivals = Sequence[tuple[float, Hashable]]

# Item 1 .. 10 arrive at these times: full batches, gaps, a lone item, spread-out items.
DEFAULT_ARRIVALS: Arrivals = (
    (0.0, 1),
    (0.1, 2),
    (0.2, 3),
    (1.0, 4),
    (1.3, 5),
    (3.0, 6),
    (3.2, 7),
    (3.3, 8),
    (3.4, 9),
    (5.0, 10),
)


@dataclass(frozen=True)
class Batch:
    """A batch as the rule says it closes: when, with what, why, and when its first entry came."""

    time: float
    entries: tuple[Any, ...]
    reason: str  # "full", "timeout" or "stop"
    first: float


def expected_batches(arrivals: Arrivals, batch_size: int, max_wait: float, stop_at: float | None = None) -> list[Batch]:
    """The batches collect_batch returns, called again as soon as it returns, for these arrivals."""
    stream = sorted(arrivals, key=lambda arrival: arrival[0])
    if stop_at is not None:
        stream.append((stop_at, STOP))
    batches: list[Batch] = []
    now, index = 0.0, 0
    while index < len(stream):
        first = max(stream[index][0], now)
        entries = [stream[index][1]]
        index += 1
        deadline, end, reason = first + max_wait, first + max_wait, "timeout"
        while len(entries) < batch_size and entries[-1] is not STOP:
            if index < len(stream) and (stream[index][0] < deadline or stream[index][0] <= first):
                entries.append(stream[index][1])
                index += 1
            else:
                break
        if entries[-1] is STOP or len(entries) == batch_size:
            arrived = max((t for t, e in stream if e is entries[-1] or e == entries[-1]), default=first)
            end, reason = max(arrived, first), ("stop" if entries[-1] is STOP else "full")
        batches.append(Batch(end, tuple(entries), reason, first))
        now = end
    return batches


# ----------------------------------------------------------- collect_batch


@learner_facing
def check_collect_batch(
    collect_batch: Callable[..., Any],
    *,
    arrivals: Arrivals = DEFAULT_ARRIVALS,
    batch_size: int = 3,
    max_wait: float = 0.5,
    stop_after: float = 0.2,
) -> None:
    """Entries arrive at the given times; collect_batch is called again each time it returns.

    First without STOP (every entry must come out, the last partial batch included),
    then with STOP put ``stop_after`` s after the last entry."""
    chain = Chain("collect_batch")
    chain.require_async_function(collect_batch, "collect_batch")
    items = [item for _, item in sorted(arrivals, key=lambda arrival: arrival[0])]
    last = max(time for time, _ in arrivals)
    for stop_at in (None, last + stop_after):
        got, run = _collect_run(collect_batch, arrivals, batch_size, max_wait, stop_at)
        what = "collect_batch" if stop_at is None else "collect_batch (with STOP at the end)"
        if run.outcome == "hung":
            stuck = [task.describe() for task in run.stuck if task.name == "collect_batch"]
            chain.fail(
                f"{what} finishes",
                observed=f"after {DEADLINE:g} simulated seconds: " + ("; ".join(stuck) or run.diagnosis),
                hint=_collect_hang_hint(run, got, items),
            )
        chain.require_finished(run, what)
        if stop_at is None:
            flat = [entry for _, batch in got for entry in batch]
            chain.require(
                flat == items,
                "every entry is returned once, in arrival order",
                observed=lambda: (
                    f"entries returned, in order: {describe_values(flat, 12)}; arrived: {describe_values(items, 12)}"
                ),
                hint="append each entry you take to the batch; take entries only with inbox.get()",
            )
            big = [batch for _, batch in got if len(batch) > batch_size]
            chain.require(
                not big,
                f"no batch holds more than batch_size={batch_size} entries",
                observed=lambda: f"a batch of {len(big[0])}: {describe_values(big[0])}",
                hint="stop taking entries as soon as len(batch) == batch_size",
            )
        _require_batches_match(chain, got, expected_batches(arrivals, batch_size, max_wait, stop_at), max_wait)


def _collect_run(
    collect_batch: Callable[..., Any], arrivals: Arrivals, batch_size: int, max_wait: float, stop_at: float | None
) -> tuple[list[tuple[float, list[Any]]], VirtualRun[Any]]:
    got: list[tuple[float, list[Any]]] = []
    wanted = len(arrivals)

    async def scenario() -> None:
        inbox: TracedQueue = TracedQueue(name="inbox")
        loop = asyncio.get_running_loop()
        for time, item in arrivals:
            loop.call_at(time, inbox.put_nowait, item)
        if stop_at is not None:
            loop.call_at(stop_at, inbox.put_nowait, STOP)
        taken = 0
        while True:  # each call in a task of its own, so that a hang names collect_batch
            batch = await asyncio.create_task(collect_batch(inbox, batch_size, max_wait), name="collect_batch")
            got.append((loop.time(), list(batch) if isinstance(batch, (list, tuple)) else [batch]))
            taken += len(got[-1][1])
            if STOP in got[-1][1] or not isinstance(batch, (list, tuple)) or (stop_at is None and taken >= wanted):
                return

    return got, run_virtual(scenario, deadline=DEADLINE)


def _collect_hang_hint(run: VirtualRun[Any], got: list[tuple[float, list[Any]]], items: list[Any]) -> str:
    returned = sum(len(batch) for _, batch in got)
    if returned < len(items):
        lost = len(items) - returned
        return (
            f"{lost} {'entry' if lost == 1 else 'entries'} arrived but never came back in a batch: a partial batch must "
            "also close max_wait seconds after its first entry, even when no further entry comes "
            "(document 000 stores max_wait and never uses it). Wait for the next entry with "
            "`async with asyncio.timeout_at(deadline):` around `await inbox.get()`"
        )
    return "return the batch as soon as you take STOP"


def _require_batches_match(
    chain: Chain,
    got: list[tuple[float, list[Any]]],
    expected: list[Batch],
    max_wait: float,
    *,
    what: str = "batch",
    verb: str = "returned",
    stop_prop: str = "taking STOP ends the batch at once",
) -> None:
    """Compare batch by batch; the first difference names the rule it breaks."""
    for number, want in enumerate(expected, start=1):
        if number > len(got):
            chain.fail(
                f"every entry ends up in a {what}",
                observed=f"expected a {what} {list(want.entries)!r} at t={want.time:g} s; there was none",
                hint="keep collecting until STOP",
            )
        time, entries = got[number - 1]
        if list(entries) == list(want.entries) and abs(time - want.time) < 1e-9:
            continue
        seen = f"{what} {number} was {list(entries)!r}, {verb} at t={time:g} s; expected {list(want.entries)!r} at t={want.time:g} s"
        if want.reason == "full":
            chain.fail(
                f"a full {what} is {verb} as soon as its last entry arrives",
                observed=seen,
                hint="stop waiting as soon as len(batch) == batch_size",
            )
        if want.reason == "stop":
            chain.fail(
                stop_prop,
                observed=seen,
                hint="stop collecting when you take STOP; return the batch with STOP as its last element",
            )
        if time > want.time + 1e-9 and len(entries) >= len(want.entries):
            hint = (
                f"the deadline is fixed when the first entry is taken: first + max_wait. A timeout on each "
                f"get() restarts with every entry, so a steady trickle keeps the {what} open for ever"
            )
        else:
            hint = (
                "start the max_wait clock when the first entry arrives (after the first, unlimited "
                "`await inbox.get()`), not when collect_batch is called"
            )
        chain.fail(
            f"a partial {what} is {verb} {max_wait:g} s after its first entry",
            observed=f"{seen} (its first entry arrived at t={want.first:g} s)",
            hint=hint,
        )
    chain.passed(f"each {what} closes when full or {max_wait:g} s after its first entry, whichever is first")
    if any(batch.reason == "stop" for batch in expected):
        chain.passed(stop_prop)


# ----------------------------------------------------------------- deliver


@learner_facing
def check_deliver(
    deliver: Callable[..., Any],
    *,
    ok: Sequence[Hashable] = (1, 2, 3),
    failing_batch: Sequence[Hashable] = (4, 5, 6),
    failing: Hashable = 5,
    short: Sequence[Hashable] = (7, 8),
    given_up: Sequence[Hashable] = (9, 10, 11),
    gave_up: Hashable = 10,
    duration: float = 1.0,
) -> None:
    """deliver() on four batches: one that succeeds, one whose handler raises, one whose handler
    returns one result too few, and one where a caller gave up (its future cancelled) before."""
    chain = Chain("deliver")
    chain.require_async_function(deliver, "deliver")
    cases = [
        ("a batch", list(ok), frozenset(), False, frozenset()),
        ("a batch whose handler raises", list(failing_batch), frozenset({failing}), False, frozenset()),
        ("a batch whose handler returns one result too few", list(short), frozenset(), True, frozenset()),
        ("a batch where one caller gave up", list(given_up), frozenset(), False, frozenset({gave_up})),
    ]
    runs = []
    for label, items, fails, too_few, cancelled in cases:
        work = BatchWorkload(duration, fails)
        futures: dict[Hashable, asyncio.Future[Any]] = {}

        async def handler(batch: list[Any], work: BatchWorkload = work, too_few: bool = too_few) -> list[Any]:
            results = await work(batch)
            return results[:-1] if too_few else results

        async def scenario(items: list[Any] = items, cancelled: frozenset = cancelled, futures: dict = futures) -> None:
            loop = asyncio.get_running_loop()
            for item in items:
                futures[item] = loop.create_future()
                if item in cancelled:
                    futures[item].cancel()
            await deliver([(item, futures[item]) for item in items], handler)

        runs.append((label, items, fails, too_few, cancelled, work, futures, run_virtual(scenario, deadline=DEADLINE)))

    for label, items, fails, too_few, cancelled, work, futures, run in runs:
        pending = [item for item, future in futures.items() if not future.done()]
        failure = find_item_failure(run.error)
        if failure is not None:
            chain.fail(
                "deliver sets the handler's error on the futures instead of raising",
                observed=f"for {label}, deliver raised {failure!r} and left {len(pending)} of "
                f"{len(items)} futures pending: those callers would wait forever",
                hint="wrap the handler call in try/except Exception as error, and give every future "
                "of the batch the error with future.set_exception(error)",
            )
        if isinstance(run.error, asyncio.InvalidStateError):
            chain.fail(
                "deliver leaves a future that is already done as it is",
                observed=f"for {label} (the future of {gave_up!r} was cancelled before), deliver raised "
                f"{describe_error(run.error)}",
                hint="a caller may give up (its future is cancelled): check `if not future.done()` "
                "before set_result() or set_exception()",
            )
        if run.outcome != "returned":
            chain.require_finished(run, f"deliver on {label}")
    chain.passed("deliver runs to the end on every batch")
    for label, items, *_, work, futures, run in runs:
        _require_quietly(
            chain,
            work.batches == [items],
            "the handler is called once, with the batch's items in order",
            observed=f"for {label} ({items!r}) the handler was called with: "
            f"{', '.join(map(repr, work.batches)) or 'nothing'}",
            hint="call `await handler([item for item, _ in batch])` exactly once",
        )
    chain.passed("the handler is called once per batch, with the batch's items in order")
    for label, items, fails, too_few, cancelled, work, futures, run in runs:
        pending = [item for item, future in futures.items() if not future.done()]
        _require_quietly(
            chain,
            not pending,
            "no future is left pending",
            observed=lambda: (
                f"for {label}, the futures of {describe_values(pending)} were never "
                "resolved: their callers would wait forever"
            ),
            hint=(
                "check that the handler returned one result per item; if not, set a ValueError on every future"
                if too_few
                else "every future needs set_result() or set_exception(), whatever the handler did"
            ),
        )
    chain.passed("no future is left pending")
    for label, items, fails, too_few, cancelled, work, futures, run in runs:
        _require_outcomes(chain, label, items, futures, fails, too_few, cancelled)


def _require_quietly(chain: Chain, holds: bool, prop: str, *, observed: str, hint: str) -> None:
    """Like chain.require, without the ✓ line (for a property tested item by item)."""
    if not holds:
        chain.fail(prop, observed=observed, hint=hint)


def _require_outcomes(
    chain: Chain,
    label: str,
    items: list[Any],
    futures: dict[Hashable, asyncio.Future[Any]],
    fails: frozenset,
    too_few: bool,
    cancelled: frozenset,
) -> None:
    def outcome(item: Hashable) -> str:
        future = futures[item]
        if future.cancelled():
            return "cancelled"
        error = future.exception()
        return f"error {error!r}" if error is not None else f"result {future.result()!r}"

    for item in items:
        future = futures[item]
        if item in cancelled:
            _require_quietly(
                chain,
                future.cancelled(),
                "a caller that gave up is left alone",
                observed=f"for {label}, the cancelled future of {item!r} now holds {outcome(item)}",
                hint="skip futures that are already done",
            )
        elif fails:
            ok = not future.cancelled() and isinstance(future.exception(), ItemFailed)
            _require_quietly(
                chain,
                ok,
                "every caller of a failed batch gets the handler's error",
                observed=f"for {label}, the caller of {item!r} got {outcome(item)}",
                hint="future.set_exception(error) with the exception the handler raised, for every future of the batch",
            )
        elif too_few:
            ok = not future.cancelled() and isinstance(future.exception(), ValueError)
            _require_quietly(
                chain,
                ok,
                "a handler that returns the wrong number of results fails every caller with ValueError",
                observed=f"for {label}, the caller of {item!r} got {outcome(item)}",
                hint="if len(results) != len(batch), nobody can tell which result is whose: set a "
                "ValueError on every future",
            )
        else:
            ok = not future.cancelled() and future.exception() is None and future.result() == Workload.expected(item)
            _require_quietly(
                chain,
                ok,
                "each caller gets exactly its own result",
                observed=f"for {label}, the caller of {item!r} got {outcome(item)}, expected "
                f"result {Workload.expected(item)!r}",
                hint="the handler's i-th result belongs to the i-th entry: zip(batch, results)",
            )
    prop = {
        "a batch": "each caller gets exactly its own result",
        "a batch whose handler raises": "every caller of a failed batch gets the handler's error",
    }.get(label)
    if prop is None:
        prop = (
            "a handler that returns the wrong number of results fails every caller with ValueError"
            if too_few
            else "a caller that gave up is left alone"
        )
    chain.passed(prop)


# -------------------------------------------------------------- batch_loop


@learner_facing
def check_batch_loop(
    batch_loop: Callable[..., Any],
    *,
    arrivals: Arrivals = DEFAULT_ARRIVALS[:9],
    close_at: float = 3.6,
    batch_size: int = 3,
    max_wait: float = 0.5,
    duration: float = 1.5,
    failing: Iterable[Hashable] = (5,),
) -> None:
    """Callers submit through a MicroBatcher running ``batch_loop``; it is closed at ``close_at``.

    The handler takes ``duration`` s per call, longer than ``max_wait``: batches must not wait
    for the previous call to finish."""
    from solutions.batching import MicroBatcher  # the given class that runs the learner's loop

    chain = Chain("batch_loop")
    chain.require_async_function(batch_loop, "batch_loop")
    failing = frozenset(failing)
    work = BatchWorkload(duration, failing)
    callers: dict[Hashable, asyncio.Task[Any]] = {}
    waiting_after_close: list[Hashable] = []

    async def scenario() -> None:
        async def caller(at: float, item: Hashable) -> Any:
            await asyncio.sleep(at)
            return await batcher.submit(item)

        async with MicroBatcher(work, batch_size=batch_size, max_wait=max_wait, batch_loop=batch_loop) as batcher:
            for at, item in arrivals:
                callers[item] = asyncio.create_task(caller(at, item), name=f"caller-{item}")
            await asyncio.sleep(close_at)
        for _ in range(3):
            await asyncio.sleep(0)
        waiting_after_close.extend(item for item, task in callers.items() if not task.done())
        for item in waiting_after_close:  # they would wait forever: stop them, and say so below
            callers[item].cancel()
        await asyncio.wait(callers.values())

    run = run_virtual(scenario, deadline=DEADLINE)
    for task in callers.values():  # retrieve each caller's error so asyncio does not log it
        if task.done() and not task.cancelled():
            task.exception()
    items = [item for _, item in arrivals]
    stuck_callers = [task.name for task in run.stuck if task.name.startswith("caller-")]
    chain.require_finished(
        run,
        "the batcher",
        hang_hint=(
            "close() puts STOP: batch_loop must deliver what it holds and return"
            if not stuck_callers or waiting_after_close
            else f"{len(stuck_callers)} caller(s) never got a result: every batch must be delivered, the last "
            "partial one too (max_wait, then STOP on close)"
        ),
    )
    chain.require(
        not waiting_after_close,
        "after close() returns, no caller is left waiting",
        observed=lambda: (
            f"callers of {describe_values(waiting_after_close)} were still waiting: close() "
            "returned before their batch was delivered"
        ),
        hint="on STOP, deliver the partial batch, and return only when every delivery has finished "
        "(start deliveries in an `async with asyncio.TaskGroup()`)",
    )
    handled = sorted((item for batch in work.batches for item in batch), key=repr)
    chain.require(
        handled == sorted(items, key=repr),
        "the handler gets each item exactly once",
        observed=lambda: f"the handler was called with {', '.join(map(repr, work.batches))}",
        hint="deliver every batch you collect, once",
    )
    in_failed = {item for batch in work.batches if failing & set(batch) for item in batch}
    for item in items:
        task = callers[item]
        error = None if task.cancelled() else task.exception()
        if item in in_failed:
            _require_quietly(
                chain,
                isinstance(error, ItemFailed),
                "a failing batch fails exactly its own callers",
                observed=f"item {item!r} was in a failing batch, but its caller got "
                f"{'cancelled' if task.cancelled() else describe_error(error) if error else repr(task.result())}",
                hint="deliver(batch, handler) sets the handler's error on every future of that batch",
            )
        else:
            got = "cancelled" if task.cancelled() else describe_error(error) if error else repr(task.result())
            _require_quietly(
                chain,
                error is None and not task.cancelled() and task.result() == Workload.expected(item),
                "each caller gets exactly its own result, unaffected by other batches",
                observed=f"the caller of {item!r} got {got}, expected {Workload.expected(item)!r}",
                hint="one failing batch must not touch other batches' callers: catch the handler's "
                "error inside deliver, not around the whole loop",
            )
    chain.passed("each caller gets exactly its own result, unaffected by other batches")
    chain.passed("a failing batch fails exactly its own callers")
    calls = [(event.time or 0.0, list(event["item"])) for event in run.of_kind("work.start")]
    expected = expected_batches(arrivals, batch_size, max_wait, close_at)
    expected = [
        Batch(b.time, tuple(e for e in b.entries if e is not STOP), b.reason, b.first)
        for b in expected
        if any(e is not STOP for e in b.entries)
    ]
    _require_no_slow_handler_delay(chain, run, calls, expected, duration)
    _require_batches_match(
        chain,
        calls,
        expected,
        max_wait,
        what="batch",
        verb="handed to the handler",
        stop_prop="on close (STOP), the partial batch is handed to the handler at once",
    )
    chain.require_no_leftover_tasks(run, "the batcher")


def _require_no_slow_handler_delay(
    chain: Chain, run: VirtualRun[Any], calls: list[tuple[float, list[Any]]], expected: list[Batch], duration: float
) -> None:
    """Handler calls that should overlap (the rule's flush times, each call ``duration`` long) but never did."""
    ends_by_rule = [(batch.time, batch.time + duration) for batch in expected]
    overlap_by_rule = max(
        (sum(1 for start, end in ends_by_rule if start <= time < end) for time, _ in ends_by_rule), default=0
    )
    peak = peak_in_flight(run.events)
    late = [(time, entries, want) for (time, entries), want in zip(calls, expected) if time > want.time + 1e-9]
    if peak < overlap_by_rule and late:
        time, entries, want = late[0]
        chain.fail(
            "a slow handler does not delay the next batch",
            observed=f"handler calls never overlapped: batch {entries!r} was handed to the handler at "
            f"t={time:g} s; by the rule it closes at t={want.time:g} s, while the previous "
            f"call ({duration:g} s long) was still running",
            hint="do not await the handler in the loop (document 000 even holds a lock around it): "
            "start each delivery as a task, e.g. group.create_task(deliver(batch, handler))",
        )
    chain.passed("a slow handler does not delay the next batch")


# ------------------------------------------------------- process_in_chunks


def _chunk_duration(slow: Iterable[Hashable], slow_time: float, time: float) -> Callable[[list[Any]], float]:
    slow = frozenset(slow)
    return lambda chunk: slow_time if slow & set(chunk) else time


def greedy_makespan(durations: Sequence[float], concurrency: int) -> float:
    """When the last chunk ends if each starts, in order, as soon as one of ``concurrency`` slots is free."""
    free = [0.0] * max(1, min(concurrency, len(durations)))
    for duration in durations:
        start = min(free)
        free[free.index(start)] = start + duration
    return max(free) if durations else 0.0


@learner_facing
def check_process_in_chunks(
    process_in_chunks: Callable[..., Any],
    *,
    items: Sequence[Hashable] = tuple(range(1, 15)),
    chunk_size: int = 3,
    concurrency: int = 2,
    slow: Iterable[Hashable] = (1,),
    slow_time: float = 3.0,
    time: float = 1.0,
    failing: Hashable = 8,
) -> None:
    """Chunks of ``items``; the chunk holding a ``slow`` item takes ``slow_time`` s, others ``time``.

    Then again with ``failing`` making its chunk's call raise."""
    chain = Chain("process_in_chunks")
    chain.require_async_function(process_in_chunks, "process_in_chunks")
    items = list(items)
    chunks = [items[start : start + chunk_size] for start in range(0, len(items), chunk_size)]
    duration = _chunk_duration(slow, slow_time, time)
    work = BatchWorkload(duration)
    run = run_virtual(
        lambda: process_in_chunks(list(items), work, chunk_size=chunk_size, concurrency=concurrency), deadline=DEADLINE
    )
    chain.require_finished(run, "process_in_chunks")
    chain.require(
        sorted(work.batches) == sorted(chunks),
        f"the handler gets consecutive chunks of {chunk_size} item{'s' if chunk_size != 1 else ''}, each once",
        observed=lambda: f"the handler was called with {', '.join(map(repr, work.batches))}",
        hint="cut the items as items[i:i + chunk_size] for i in range(0, len(items), chunk_size)",
    )
    expected = [Workload.expected(item) for item in items]
    chain.require(
        run.value == expected,
        "the results come back in input order",
        observed=lambda: (
            f"returned {describe_values(list(run.value), 6)}"
            if isinstance(run.value, list)
            else f"returned {run.value!r:.100}"
        ),
        hint="store each chunk's results at the chunk's index, then concatenate in index order "
        "(appending as calls finish gives completion order)",
    )
    chain.require_no_leftover_tasks(run, "process_in_chunks")
    peak = peak_in_flight(run.events)
    chain.require(
        peak <= concurrency,
        f"at most {concurrency} chunks are handled at once",
        observed=f"{peak} handler calls ran at the same time",
        hint="run the calls through `concurrency` workers, or hold an asyncio.Semaphore(concurrency) around each call",
    )
    best = greedy_makespan([duration(chunk) for chunk in chunks], concurrency)
    chain.require(
        run.elapsed <= best + 1e-9,
        "a new chunk starts as soon as a call finishes",
        observed=f"it took {run.elapsed:g} s; starting each chunk as soon as a slot frees up takes {best:g} s"
        + (f" (never more than {peak} call(s) at once)" if peak < min(concurrency, len(chunks)) else ""),
        hint="do not run the chunks in waves of `concurrency` (each wave waits for its slowest call, "
        "as in document 004) nor one after another: let each free worker take the next chunk",
    )
    _check_chunk_failure(chain, process_in_chunks, items, chunk_size, concurrency, duration, failing)


def _check_chunk_failure(
    chain: Chain,
    process_in_chunks: Callable[..., Any],
    items: list[Any],
    chunk_size: int,
    concurrency: int,
    duration: Callable[[list[Any]], float],
    failing: Hashable,
) -> None:
    work = BatchWorkload(duration, {failing})
    run = run_virtual(
        lambda: process_in_chunks(list(items), work, chunk_size=chunk_size, concurrency=concurrency), deadline=DEADLINE
    )
    if run.outcome in ("hung", "blocked"):
        chain.require_finished(run, "process_in_chunks with a failing chunk")
    raised = find_item_failure(run.error)
    seen = f"returned {run.value!r:.100}" if run.outcome == "returned" else f"raised {describe_error(run.error)}"
    chain.require(
        raised is not None,
        "a failing chunk makes process_in_chunks raise its error",
        observed=f"item {failing!r}'s chunk raised ItemFailed, and process_in_chunks {seen}",
        hint="let the handler's exception propagate (a TaskGroup raises it in an ExceptionGroup); "
        "do not use return_exceptions=True or swallow it",
    )
    failed_at = next(event.time or 0.0 for event in run.of_kind("work.end") if event["outcome"] == "failed")
    late = [event for event in run.of_kind("work.start") if (event.time or 0.0) > failed_at + 1e-9]
    chain.require(
        not late,
        "after a chunk fails, no new chunk starts",
        observed=lambda: (
            f"the chunk of {failing!r} failed at t={failed_at:g} s, then chunk "
            f"{list(late[0]['item'])!r} started at t={late[0].time:g} s"
        ),
        hint="start the calls in a TaskGroup: the first error cancels the rest",
    )
    running = [task for task in run.leftover]
    chain.require(
        not running,
        "after a chunk fails, no call is left running",
        observed=lambda: "; ".join(task.describe() for task in running),
        hint="asyncio.gather() returns at the first error but leaves the other calls running; "
        "a TaskGroup cancels them and waits for them",
    )


__all__ = [
    "check_collect_batch",
    "check_deliver",
    "check_batch_loop",
    "check_process_in_chunks",
    "expected_batches",
    "greedy_makespan",
]
