"""Chapter 3 checks: collect_batch, deliver, the MicroBatcher class, process_in_chunks.

Each ``check_*`` takes the learner's object (a function, or the class itself as the
factory ``MicroBatcher(handler, batch_size=..., max_wait=...)``), runs it on a virtual
clock against a :class:`~coursekit.workload.BatchWorkload` (a fake batch API) and walks
a :class:`~coursekit.checks.Chain`: defined -> runs -> terminates -> correct -> respects
limits. The default arguments are the scenario the learner sees; a failure message ends
with the call that reproduces it, every argument included (hidden calls too).

The class has one check per behaviour (``check_batcher_*``), each graded on its own: a
batch flushes when full or ``max_wait`` after its first item; each caller gets its own
result; a failing handler fails exactly its batch's callers; close() and abort() leave
nobody waiting; a slow handler does not delay the next batch. Their scenarios avoid
depending on the other behaviours, and accept any schedule the rule allows.

The expected batches come from :func:`expected_batches`, a plain simulation of
the rule: a batch closes when full, or ``max_wait`` s after its first entry was
taken, or at once when it takes STOP. Scenarios never put an entry at exactly a
deadline (the one instant the rule leaves open).

process_in_chunks is checked by properties, never against one schedule: any chunk may go
next, but at no instant may a slot stay free while a chunk waits
(:func:`coursekit.analysis.idle_slots`), so a last-first runner passes and waves fail.

Hidden scenarios (in the chapter's test cells) vary what an implementation could
accidentally depend on: the clock not at 0 when the first entry comes, repeated items,
batch sizes of 1 and larger than the work, ``max_wait=0``, no items at all, STOP alone
in its batch, failures at the first and at the last item, the slowest chunk first and last.
Every hint names the likely cause of the observation it follows.
"""

from __future__ import annotations

import asyncio
import functools
import traceback
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn, Protocol

from coursekit.analysis import idle_slots, peak_in_flight
from coursekit.chapters.batching.analysis import batch_handler_calls
from coursekit.chapters.batching.given import BatchHandler, Entry, traced_submit
from coursekit.checks import Chain, describe_error, describe_values, learner_facing, learner_line
from coursekit.events import Kind
from coursekit.queues import STOP, TracedQueue
from coursekit.scenario import (
    Outcome,
    alone_on_the_clock,
    cancellation_sweep,
    ends_cancelled_at_each_wait,
    leaves_no_task_at_any_wait,
    sleep_until,
    sweep_instants,
    timed_call,
)
from coursekit.stuck_tasks import describe_pending
from coursekit.virtual_time import VirtualRun, run_virtual
from coursekit.workload import BatchWorkload, ItemFailed, Workload, find_item_failure

# ---------------------------------------------------------- the learner's code, as the statement gives it

CollectBatch = Callable[[TracedQueue[Any], int, float], Coroutine[Any, Any, object]]
"""``collect_batch(inbox, batch_size, max_wait)``: the next batch (a list)."""

Deliver = Callable[[list[Entry], BatchHandler], Coroutine[Any, Any, object]]
"""``deliver(batch, handler)``: every entry's future gets its outcome."""


class ProcessInChunks(Protocol):
    """``process_in_chunks(items, handler, *, chunk_size, concurrency)``: the results, in input order."""

    def __call__(
        self, items: list[Any], handler: BatchWorkload, *, chunk_size: int, concurrency: int
    ) -> Awaitable[object]: ...


class BatcherUnderCheck(Protocol):
    """A ``MicroBatcher``: callers submit, and close() or abort() ends it."""

    async def submit(self, item: Any) -> Any: ...

    async def close(self) -> None: ...

    async def abort(self) -> None: ...


class MakeBatcher(Protocol):
    """The learner's class: ``MicroBatcher(handler, batch_size=..., max_wait=...)``."""

    def __call__(self, handler: BatchWorkload, *, batch_size: int, max_wait: float) -> BatcherUnderCheck: ...


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
    """The batches collect_batch returns, called again as soon as it returns, for these arrivals.

    Entries are followed by position, so repeated items are told apart."""
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
            end, reason = max(stream[index - 1][0], first), ("stop" if entries[-1] is STOP else "full")
        batches.append(Batch(end, tuple(entries), reason, first))
        now = end
    return batches


# ----------------------------------------------------------- collect_batch


@dataclass
class Collected:
    """collect_batch called again each time it returned: (when, batch) of each call, and the run."""

    batches: list[tuple[float, list[Any]]]
    run: VirtualRun[None]

    @property
    def flat(self) -> list[Any]:
        return [entry for _, batch in self.batches for entry in batch]


@learner_facing
def check_collect_batch(
    collect_batch: CollectBatch,
    *,
    arrivals: Arrivals = DEFAULT_ARRIVALS,
    batch_size: int = 3,
    max_wait: float = 0.5,
    stop_after: float = 0.2,
    cancel_each_wait: bool = False,
) -> None:
    """Entries arrive at the given times; collect_batch is called again each time it returns.

    First without STOP (every entry must come out, the last partial batch included),
    then with STOP put ``stop_after`` s after the last entry. With ``cancel_each_wait``, then
    the cancellation sweep: one call cancelled at each of its waits in turn
    (:func:`check_collect_batch_cancelled`)."""
    chain = Chain("collect_batch")
    chain.require_async_function(collect_batch, "collect_batch")
    items = [item for _, item in sorted(arrivals, key=lambda arrival: arrival[0])]
    last = max(time for time, _ in arrivals)
    for stop_at in (None, last + stop_after):
        collected = collect_batches(collect_batch, arrivals, batch_size, max_wait, stop_at)
        what = "collect_batch" if stop_at is None else "collect_batch (with STOP at the end)"
        collect_batch_runs_to_the_end(chain, collected, items, what)
        waits_for_the_first_entry_without_limit(chain, collected, what)
        if stop_at is None:
            returns_every_entry_once_in_order(chain, collected, items)
            no_batch_holds_more_than_batch_size(chain, collected, batch_size)
        expected = expected_batches(arrivals, batch_size, max_wait, stop_at)
        batches_close_by_the_rule(
            chain, collected.batches, expected, sorted(time for time, _ in arrivals), Rule(batch_size, max_wait)
        )
    if cancel_each_wait:
        check_collect_batch_cancelled(chain, collect_batch, arrivals, batch_size, max_wait)


def check_collect_batch_cancelled(
    chain: Chain, collect_batch: CollectBatch, arrivals: Arrivals, batch_size: int, max_wait: float
) -> None:
    """The cancellation sweep (the kit's :func:`cancellation_sweep`): one collect_batch call on these
    arrivals, cancelled in turn while it waits for its first entry, between entries and for its
    deadline (never in the instant an entry arrives: :func:`_while_it_waits`); each time the
    CancelledError must come out of it, and no task it started may be left. (The entries it took
    are the caller's to drop: the statement asks nothing of them.)"""
    call = functools.partial(_one_collect, collect_batch, arrivals, batch_size, max_wait)
    swept = cancellation_sweep(
        chain, "collect_batch", alone_on_the_clock(call, deadline=DEADLINE), instants=_while_it_waits
    )
    ends_cancelled_at_each_wait(
        chain,
        "collect_batch",
        swept,
        hint="catch only the TimeoutError of the deadline: a bare `except:`, `except BaseException` or `except "
        "asyncio.CancelledError` around the get turns a cancellation (abort() cancels the batch loop) into a "
        "returned batch, and the loop goes on",
    )
    leaves_no_task_at_any_wait(
        chain,
        "collect_batch",
        swept,
        hint="collect_batch started a task (an `inbox.get()` for asyncio.wait) and left it waiting when it was "
        "itself cancelled: cancel that getter in a `finally:` (or use `async with asyncio.timeout_at(deadline):` "
        "around a plain `await inbox.get()`, which starts no task)",
    )


def _while_it_waits(run: VirtualRun[Outcome]) -> list[float]:
    """The kit's instants (:func:`sweep_instants`) but those at which something happens (an entry is
    put): cancelled only while it waits. In the instant its get completes, Python 3.11's
    ``asyncio.wait_for`` (which the statement allows) returns the entry and loses the cancellation."""
    happened = {event.time for event in run.events}
    return [at for at in sweep_instants(run) if at not in happened]


async def _one_collect(collect_batch: CollectBatch, arrivals: Arrivals, batch_size: int, max_wait: float) -> object:
    """One collect_batch call on an inbox whose entries are put at their times."""
    inbox: TracedQueue[Any] = TracedQueue(name="inbox")
    loop = asyncio.get_running_loop()
    for time, item in arrivals:
        loop.call_at(time, inbox.put_nowait, item)
    return await collect_batch(inbox, batch_size, max_wait)


def collect_batches(
    collect_batch: CollectBatch, arrivals: Arrivals, batch_size: int, max_wait: float, stop_at: float | None
) -> Collected:
    """The scenario: entries (and STOP at ``stop_at``) put at their times; collect_batch called until
    it returns STOP, every entry (without STOP), or empty batches again and again."""
    got: list[tuple[float, list[Any]]] = []
    wanted = len(arrivals)

    async def scenario() -> None:
        inbox: TracedQueue[Any] = TracedQueue(name="inbox")
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
            if not got[-1][1] and len(got) > 2 * wanted + 2:  # empty batches, again and again
                return
            if any(entry is STOP for entry in got[-1][1]) or not isinstance(batch, (list, tuple)):
                return
            if stop_at is None and taken >= wanted:
                return

    return Collected(got, run_virtual(scenario, deadline=DEADLINE))


def collect_batch_runs_to_the_end(chain: Chain, collected: Collected, items: list[Any], what: str) -> None:
    """It neither hangs nor raises (a TimeoutError, or an error of its own)."""
    run, got = collected.run, collected.batches
    if run.outcome == "hung":
        stuck = [task.describe() for task in run.stuck if task.name == "collect_batch"]
        chain.fail(
            f"{what} finishes",
            observed=f"after {DEADLINE:g} simulated seconds: " + ("; ".join(stuck) or run.diagnosis),
            hint=_collect_hang_hint(got, items),
        )
    if run.outcome == "raised" and isinstance(run.error, TimeoutError):
        waited = f"after its batch {describe_values(got[-1][1])}" if got else "on its first call"
        chain.fail(
            f"{what} runs without raising",
            observed=f"raised TimeoutError at t={run.elapsed:g} s, {waited}",
            hint="catch the TimeoutError of `async with asyncio.timeout_at(deadline):` around the "
            "later gets and return the batch; and put no time limit on the first `await inbox.get()`: "
            "a batch starts only when an entry comes, however long that takes",
        )
    if run.outcome == "raised" and not isinstance(run.error, NotImplementedError):
        chain.fail(
            f"{what} runs without raising",
            observed=f"raised {describe_error(run.error)}{_where(run.error)}, after "
            f"{len(got)} batch{'es' if len(got) != 1 else ''}",
            hint="the error comes from your own code, not from the inbox: run the scenario line above in a "
            "cell of its own and read the traceback",
        )
    chain.require_finished(run, what)


def _collect_hang_hint(got: list[tuple[float, list[Any]]], items: list[Any]) -> str:
    returned = sum(len(batch) for _, batch in got)
    if returned < len(items):
        lost = len(items) - returned
        return (
            f"{lost} {'entry' if lost == 1 else 'entries'} arrived but never came back in a batch: a partial "
            "batch must also close max_wait seconds after its first entry, even when no further entry comes. "
            "With no timeout at all (document 000 stores max_wait and never uses it), or with a deadline on "
            "another clock than the loop's (time.monotonic(), time.time()), it never does. Wait for each later "
            "entry with `async with asyncio.timeout_at(deadline):` around `await inbox.get()`, where "
            "deadline = loop.time() + max_wait"
        )
    return "return the batch as soon as you take STOP, also when STOP is the first entry of a batch"


def waits_for_the_first_entry_without_limit(chain: Chain, collected: Collected, what: str) -> None:
    empty = [time for time, batch in collected.batches if not batch]
    chain.require(
        not empty,
        f"{what} waits for the first entry with no time limit",
        observed=f"it returned an empty batch at t={empty[0]:g} s" if empty else "",
        hint="take the first entry with a plain `await inbox.get()`: the max_wait clock starts only once "
        "a batch has its first entry",
    )


def returns_every_entry_once_in_order(chain: Chain, collected: Collected, items: list[Any]) -> None:
    flat = collected.flat
    chain.require(
        flat == items,
        "every entry is returned once, in arrival order",
        observed=f"entries returned, in order: {describe_values(flat, 12)}; arrived: {describe_values(items, 12)}",
        hint="append each entry you take to the batch; take entries only with inbox.get()",
    )


def no_batch_holds_more_than_batch_size(chain: Chain, collected: Collected, batch_size: int) -> None:
    big = [batch for _, batch in collected.batches if len(batch) > batch_size]
    chain.require(
        not big,
        f"no batch holds more than batch_size={batch_size} entries",
        observed=f"a batch of {len(big[0])}: {describe_values(big[0])}" if big else "",
        hint="stop taking entries as soon as len(batch) == batch_size (`<`, not `<=`, in the loop's test)",
    )


# The rule's comparison, shared by collect_batch and the MicroBatcher's flushes.


@dataclass(frozen=True)
class Rule:
    """The batching rule under check, and how its messages name a batch (``what``), its closing
    (``verb``) and the STOP property (``stop_prop``)."""

    batch_size: int
    max_wait: float
    what: str = "batch"
    verb: str = "returned"
    stop_prop: str = "taking STOP ends the batch at once"


def batches_close_by_the_rule(
    chain: Chain, got: list[tuple[float, list[Any]]], expected: list[Batch], times: Sequence[float], rule: Rule
) -> None:
    """Compare batch by batch; the first difference names the rule it breaks, and a hint about its likely cause.

    ``times`` are the entries' arrival times, in order (a batch that closed as an entry arrived
    closed because it counted itself full)."""
    what = rule.what
    for number, want in enumerate(expected, start=1):
        if number > len(got):
            chain.fail(
                f"every entry ends up in a {what}",
                observed=f"expected a {what} {list(want.entries)!r} at t={want.time:g} s; there was none",
                hint="keep collecting until STOP",
            )
        time, entries = got[number - 1]
        if list(entries) != list(want.entries) or abs(time - want.time) >= 1e-9:
            _fail_batch(chain, number, got, want, times, rule)
    if len(got) > len(expected):
        time, entries = got[len(expected)]
        chain.fail(
            f"the handler is never called with an empty {what}" if not entries else f"no {what} is made twice",
            observed=f"after the {len(expected)} expected {what}es, another: {list(entries)!r} at t={time:g} s",
            hint="when the batch that ends with STOP holds nothing else, deliver nothing: "
            "`if batch: ...` before handing it over"
            if not entries
            else "hand each collected batch to the handler once",
        )
    chain.passed(f"each {what} closes when full or {rule.max_wait:g} s after its first entry, whichever is first")
    if any(batch.reason == "stop" for batch in expected):
        chain.passed(rule.stop_prop)


def _fail_batch(
    chain: Chain, number: int, got: list[tuple[float, list[Any]]], want: Batch, times: Sequence[float], rule: Rule
) -> NoReturn:
    """Batch ``number`` differs from the rule's: name the rule it breaks, from how it differs."""
    what, verb, batch_size = rule.what, rule.verb, rule.batch_size
    time, entries = got[number - 1]
    seen = (
        f"{what} {number} was {list(entries)!r}, {verb} at t={time:g} s; "
        f"expected {list(want.entries)!r} at t={want.time:g} s"
    )
    before = sum(len([entry for entry in batch if entry is not STOP]) for _, batch in got[: number - 1])
    real = [entry for entry in entries if entry is not STOP]
    closed_on_arrival = (
        0 < len(real) and before + len(real) <= len(times) and (abs(times[before + len(real) - 1] - time) < 1e-9)
    )
    if want.reason == "stop" or (entries and entries[-1] is STOP):
        chain.fail(
            rule.stop_prop,
            observed=seen,
            hint="stop collecting when you take STOP, and return the batch with STOP as its last element"
            + (
                "; here STOP is the first entry of its batch: test for it right after the first get, too"
                if want.entries[0] is STOP
                else ""
            ),
        )
    if closed_on_arrival and time < want.time - 1e-9 and len(entries) == batch_size - 1:
        chain.fail(
            f"a {what} holds batch_size={batch_size} entries when it is full",
            observed=seen,
            hint="off by one: keep taking entries while len(batch) < batch_size",
        )
    if want.reason == "full":
        chain.fail(
            f"a full {what} is {verb} as soon as its last entry arrives",
            observed=seen,
            hint="stop waiting as soon as len(batch) == batch_size"
            if time > want.time + 1e-9
            else "a batch closes early only when it holds batch_size entries; otherwise wait for "
            "entries until first + max_wait",
        )
    last = times[before + len(real) - 1] if 0 < len(real) <= len(times) - before else None
    chain.fail(
        f"a partial {what} is {verb} {rule.max_wait:g} s after its first entry",
        observed=f"{seen} (its first entry arrived at t={want.first:g} s)",
        hint=_deadline_hint(time, last, want, rule.max_wait, what),
    )


def _deadline_hint(time: float, last: float | None, want: Batch, max_wait: float, what: str) -> str:
    """Why a partial batch closed at the wrong time, from when it closed (``last``: when its last entry came)."""
    if time > want.time + 1e-9 and last is not None and abs(time - (last + max_wait)) < 1e-9:
        return (
            f"the {what} closed max_wait after its *last* entry: the deadline is fixed when the first entry is "
            "taken, first + max_wait on loop.time(); a timeout on each get() (asyncio.wait_for(inbox.get(), "
            "max_wait)) restarts with every entry, so a trickle of entries keeps the batch open"
        )
    if time > want.time + 1e-9:
        return (
            f"the {what} stayed open past first + max_wait = {want.time:g} s: the deadline is fixed when the first "
            "entry is taken, and no entry is awaited past it (document 000 stores max_wait and never reads it)"
        )
    if time < want.first + 1e-9:
        return (
            "the deadline had already passed when the first entry came: start the max_wait clock when the first "
            "entry arrives, deadline = loop.time() + max_wait right after the first `await inbox.get()`, not "
            "when collect_batch is called, and not the bare number max_wait (an absolute time near the start)"
        )
    return (
        "start the max_wait clock when the first entry arrives (after the first, unlimited "
        "`await inbox.get()`), not when collect_batch is called"
    )


# ----------------------------------------------------------------- deliver


@learner_facing
def check_deliver(
    deliver: Deliver,
    *,
    ok: Sequence[Hashable] = (1, 2, 3),
    failing_batch: Sequence[Hashable] = (4, 5, 6),
    failing: Hashable = 5,
    short: Sequence[Hashable] = (7, 8),
    long: Sequence[Hashable] = (9, 10),
    given_up: Sequence[Hashable] = (11, 12, 13),
    gave_up: Iterable[Hashable] = (12,),
    torn_down: Sequence[Hashable] = (14, 15),
    duration: float = 1.0,
) -> None:
    """deliver() on six batches: ``ok`` succeeds; ``failing_batch``'s handler raises (it holds
    ``failing``); ``short``'s handler returns one result too few, ``long``'s one too many; in
    ``given_up``, the callers of the ``gave_up`` items had given up (their futures cancelled)
    before (``gave_up`` items in other batches give up too); and ``torn_down``'s delivery is
    cancelled while its handler runs. Each handler call takes ``duration`` s."""
    chain = Chain("deliver")
    chain.require_async_function(deliver, "deliver")
    gave_up = frozenset(gave_up)
    cases = [
        _DeliverCase("a batch", list(ok), gave_up),
        _DeliverCase("a batch whose handler raises", list(failing_batch), gave_up, fails=frozenset({failing})),
        _DeliverCase("a batch whose handler returns one result too few", list(short), gave_up, miscount=-1),
        _DeliverCase("a batch whose handler returns one result too many", list(long), gave_up, miscount=1),
        _DeliverCase("a batch where a caller gave up", list(given_up), gave_up),
    ]
    for case in cases:
        case.run_with(deliver, duration)
    for case in cases:
        deliver_returns(chain, case)
    chain.passed("deliver runs to the end on every batch, without raising")
    handler_is_called_once_per_batch(chain, cases)
    no_future_is_left_pending(chain, cases)
    shown: set[str] = set()
    for case in cases:
        callers_get_their_outcomes(chain, case, shown)
    torn = cancel_a_delivery(deliver, list(torn_down), gave_up)
    cancelled_deliver_cancels_its_futures(chain, torn)
    cancelled_deliver_lets_the_cancellation_propagate(chain, torn)


@dataclass
class _DeliverCase:
    """One batch given to deliver(): its handler fails, or returns ``miscount`` results too many
    (negative: too few); the futures of ``gave_up`` items are cancelled before."""

    label: str
    items: list[Any]
    gave_up: frozenset[Hashable] = frozenset()
    fails: frozenset[Hashable] = frozenset()
    miscount: int = 0
    futures: list[asyncio.Future[Any]] = field(default_factory=list)
    work: BatchWorkload = field(default_factory=BatchWorkload)
    run: VirtualRun[None] = field(default_factory=lambda: VirtualRun("hung", None, None, [], 0.0, DEADLINE))

    @property
    def pending(self) -> list[Hashable]:
        return [item for item, future in zip(self.items, self.futures, strict=False) if not future.done()]

    def run_with(self, deliver: Deliver, duration: float) -> None:
        """The scenario: deliver() on this batch, its futures made (and those given up cancelled) first."""
        self.work = BatchWorkload(duration, self.fails)

        async def handler(batch: list[Any]) -> list[Any]:
            results = await self.work(batch)
            if self.miscount < 0:
                return results[: self.miscount]
            return results + [("extra", None)] * self.miscount

        async def scenario() -> None:
            self.futures = _futures(self.items, self.gave_up)
            await deliver(list(zip(self.items, self.futures, strict=True)), handler)

        self.run = run_virtual(scenario, deadline=DEADLINE)


def _futures(items: list[Any], gave_up: frozenset[Hashable]) -> list[asyncio.Future[Any]]:
    """A future per item, on the running loop; those of the ``gave_up`` items already cancelled."""
    loop = asyncio.get_running_loop()
    futures: list[asyncio.Future[Any]] = [loop.create_future() for _ in items]
    for item, future in zip(items, futures, strict=True):
        if item in gave_up:
            future.cancel()
    return futures


def deliver_returns(chain: Chain, case: _DeliverCase) -> None:
    """deliver() returned on this batch: it did not raise, block or hang."""
    error = case.run.error
    if case.run.outcome == "raised" and not isinstance(error, NotImplementedError):
        pending = f", and left {len(case.pending)} of {len(case.items)} futures pending" if case.pending else ""
        seen = f"for {case.label}, deliver raised {describe_error(error)}{pending}"
        if find_item_failure(error) is not None:
            chain.fail(
                "deliver sets the handler's error on the futures instead of raising",
                observed=f"{seen}: those callers would wait forever" if case.pending else seen,
                hint="wrap the handler call in try/except Exception as error, and give every future "
                "of the batch the error with future.set_exception(error)",
            )
        if isinstance(error, asyncio.InvalidStateError):
            chain.fail(
                "deliver leaves a future that is already done as it is",
                observed=f"{seen} (the futures of {describe_values([i for i in case.items if i in case.gave_up])} were "
                "cancelled before: their callers gave up)",
                hint="a caller may give up (its future is cancelled): check `if not future.done()` before "
                "set_result() or set_exception(), on the error paths too",
            )
        chain.fail(
            "deliver never raises an exception",
            observed=seen,
            hint="count the results before setting any (len(results) != len(batch)) and then set a ValueError "
            "on every future instead of raising it: an error escaping deliver reaches none of the callers"
            if case.miscount
            else "an error escaping deliver reaches none of the callers: give each future its outcome with "
            "set_result() or set_exception(), and return",
        )
    if case.run.outcome != "returned":
        chain.require_finished(case.run, f"deliver on {case.label}")


def handler_is_called_once_per_batch(chain: Chain, cases: list[_DeliverCase]) -> None:
    for case in cases:
        _require_quietly(
            chain,
            case.work.batches == [case.items],
            "the handler is called once, with the batch's items in order",
            observed=f"for {case.label} ({case.items!r}) the handler was called with: "
            f"{', '.join(map(repr, case.work.batches)) or 'nothing'}",
            hint="call `await handler([item for item, _ in batch])` exactly once, with the items as they "
            "are (not sorted, not made unique: two callers may submit equal items)",
        )
    chain.passed("the handler is called once per batch, with the batch's items in order")


def no_future_is_left_pending(chain: Chain, cases: list[_DeliverCase]) -> None:
    for case in cases:
        pending = case.pending
        _require_quietly(
            chain,
            not pending,
            "no future is left pending",
            observed=f"for {case.label}, the futures of {describe_values(pending)} were never "
            "resolved: their callers would wait forever",
            hint=_pending_hint(case),
        )
    chain.passed("no future is left pending")


def _pending_hint(case: _DeliverCase) -> str:
    if case.miscount:
        return (
            "check that the handler returned one result per item before you set any: zip() stops at the "
            "shorter list. If the count is wrong, set a ValueError on every future"
        )
    if case.fails:
        return "catch the handler's error (except Exception as error) and set it on every future of the batch"
    return "every future needs set_result() or set_exception(), whatever the handler did"


def _require_quietly(chain: Chain, holds: bool, prop: str, *, observed: str, hint: str) -> None:
    """Like chain.require, without the ✓ line (for a property tested item by item)."""
    if not holds:
        chain.fail(prop, observed=observed, hint=hint)


def _describe_future(future: asyncio.Future[Any]) -> str:
    if not future.done():
        return "pending"
    if future.cancelled():
        return "cancelled"
    error = future.exception()
    return f"error {error!r}" if error is not None else f"result {future.result()!r}"


def callers_get_their_outcomes(chain: Chain, case: _DeliverCase, shown: set[str]) -> None:
    """Each caller of this batch got the outcome the statement gives it; a ✓ line per property not ``shown`` yet."""
    if case.fails:
        prop = "every caller of a failed batch gets the handler's error"
    elif case.miscount:
        prop = "a handler that returns the wrong number of results fails every caller with ValueError"
    else:
        prop = "each caller gets exactly its own result"
    for position, (item, future) in enumerate(zip(case.items, case.futures, strict=True)):
        caller = f"the caller of {item!r}" + (f" (entry {position})" if case.items.count(item) > 1 else "")
        got = f"for {case.label}, {caller} got {_describe_future(future)}"
        if item in case.gave_up:
            _require_quietly(
                chain,
                future.cancelled(),
                "a caller that gave up is left alone",
                observed=f"for {case.label}, the cancelled future of {item!r} now holds {_describe_future(future)}",
                hint="skip futures that are already done",
            )
        elif case.fails:
            _require_quietly(
                chain,
                not future.cancelled() and isinstance(future.exception(), ItemFailed),
                prop,
                observed=got,
                hint="future.set_exception(error) with the very exception the handler raised (not a new one, "
                "not a cancellation), for every future of the batch",
            )
        elif case.miscount:
            _require_quietly(
                chain,
                not future.cancelled() and isinstance(future.exception(), ValueError),
                prop,
                observed=got,
                hint="if len(results) != len(batch), nobody can tell which result is whose: set a "
                "ValueError on every future, for too many results as for too few",
            )
        else:
            want = Workload.expected(item)
            _require_quietly(
                chain,
                not future.cancelled() and future.exception() is None and future.result() == want,
                prop,
                observed=f"for {case.label} ({case.items!r}), {caller} got {_describe_future(future)}, expected "
                f"result {want!r}",
                hint="the handler's i-th result belongs to the batch's i-th entry: "
                "`for (_, future), result in zip(batch, results)`",
            )
    done = prop if not case.gave_up & set(case.items) else "a caller that gave up is left alone"
    if done not in shown:
        shown.add(done)
        chain.passed(done)


@dataclass
class TornDown:
    """deliver() cancelled 1 s into a handler call that would take 1000 s: its futures, how it
    ended if not as cancelled ("" if it did), and the run."""

    items: list[Any]
    futures: list[asyncio.Future[Any]]
    ended: str
    run: VirtualRun[None]


def cancel_a_delivery(deliver: Deliver, items: list[Any], gave_up: frozenset[Hashable]) -> TornDown:
    """The scenario: deliver() on ``items`` is cancelled 1 s into its handler call, then given GRACE s."""
    torn = TornDown(items, [], "", VirtualRun("hung", None, None, [], 0.0, DEADLINE))

    async def scenario() -> None:
        torn.futures = _futures(items, gave_up)
        task = asyncio.create_task(deliver(list(zip(items, torn.futures, strict=True)), BatchWorkload(1000.0)))
        await asyncio.sleep(1.0)
        task.cancel()
        await asyncio.wait({task}, timeout=GRACE)
        if not task.done():
            torn.ended = f"was still running {GRACE:g} s after it was cancelled"
            task.cancel()
            await asyncio.wait({task})
        elif not task.cancelled():
            error = task.exception()
            torn.ended = f"raised {describe_error(error)}" if error is not None else "returned normally"
        for future in torn.futures:  # retrieve what deliver set, so that asyncio does not log it
            if future.done() and not future.cancelled():
                future.exception()

    torn.run = run_virtual(scenario, deadline=DEADLINE)
    return torn


def cancelled_deliver_cancels_its_futures(chain: Chain, torn: TornDown) -> None:
    chain.require_finished(torn.run, "deliver, cancelled during the handler call,")
    pairs = list(zip(torn.items, torn.futures, strict=True))
    chain.require(
        all(future.cancelled() for _, future in pairs),
        "a cancelled deliver cancels its batch's futures",
        observed=lambda: (
            f"deliver for {torn.items!r} was cancelled 1 s into the handler call; then "
            + "; ".join(
                f"the future of {item!r} "
                + ("was still pending" if not future.done() else "held " + _describe_future(future))
                for item, future in pairs
                if not future.cancelled()
            )
        ),
        hint="`except Exception` does not catch asyncio.CancelledError: add `except asyncio.CancelledError:` "
        "that cancels every future of the batch and then re-raises (`raise`)",
    )


def cancelled_deliver_lets_the_cancellation_propagate(chain: Chain, torn: TornDown) -> None:
    chain.require(
        not torn.ended,
        "a cancelled deliver lets the CancelledError propagate",
        observed=lambda: f"deliver for {torn.items!r} was cancelled 1 s into the handler call, and {torn.ended}",
        hint="after cancelling the futures, re-raise the CancelledError (`raise`): whoever cancelled the delivery "
        "(the batch loop's TaskGroup, abort()) waits for it to end as cancelled",
    )


# ------------------------------------------------------------ MicroBatcher
#
# Each check below runs one scenario: callers submit at given times to a batcher made by
# ``make_batcher(handler, batch_size=..., max_wait=...)`` (the learner's class), and the
# batcher is closed (or aborted) at a given time. Each tests one behaviour, so a mistake
# loses the points of that behaviour only; the scenarios avoid depending on the others
# (e.g. only full batches where max_wait is not the subject).

GRACE = 30.0  # simulated seconds that close() / abort() get to return


@dataclass
class BatcherRun:
    """One scenario's run: each caller's task, and what close() or abort() did."""

    run: VirtualRun[None]
    work: BatchWorkload
    arrivals: Arrivals
    ending: str  # "close" or "abort"
    end_at: float
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    batcher: Any = None
    ended_at: float | None = None  # when close()/abort() returned or raised; None: not within GRACE
    end_error: BaseException | None = None
    stuck_at_end: list[str] = field(default_factory=list)  # pending tasks GRACE s after the end began
    waiting: list[int] = field(default_factory=list)  # callers still waiting when it returned
    late_submit: str = ""  # what a submit() after close()/abort() did ("" if it raised RuntimeError)
    again: Outcome | None = None  # close() called a second time (None: it had not returned)
    done_at: dict[int, float] = field(default_factory=dict)  # caller number -> when its task ended

    @property
    def calls(self) -> list[tuple[float, list[Any]]]:
        """(time, items) of each handler call."""
        return batch_handler_calls(self.run.events)

    @property
    def last_outcome_at(self) -> float:
        """When the last caller who submitted before close()/abort() got its outcome."""
        before = [self.done_at.get(n, DEADLINE) for n, (at, _) in enumerate(self.arrivals) if at < self.end_at]
        return max(before, default=0.0)

    def caller(self, number: int) -> str:
        at, item = self.arrivals[number]
        return f"the caller of {item!r} (t={at:g} s)"

    def outcome(self, number: int) -> str:
        task = self.tasks[number]
        if number in self.waiting:
            return "was still waiting"
        if task.cancelled():
            return "was cancelled"
        error = task.exception()
        return f"got {describe_error(error)}" if error is not None else f"got {task.result()!r}"

    def error_of(self, number: int) -> BaseException | None:
        task = self.tasks[number]
        return None if number in self.waiting or task.cancelled() else task.exception()

    def got_result(self, number: int, item: Hashable) -> bool:
        """Caller ``number`` got the result of ``item``."""
        task = self.tasks[number]
        return (
            self.error_of(number) is None
            and number not in self.waiting
            and not task.cancelled()
            and task.result() == Workload.expected(item)
        )

    def ended(self) -> str:
        """How close()/abort() ended, for messages."""
        if self.ended_at is None:
            return f"{self.ending}() had not returned {GRACE:g} s after it was called"
        if isinstance(self.end_error, asyncio.CancelledError) and not str(self.end_error):
            return f"{self.ending}() raised CancelledError at t={self.ended_at:g} s"
        if self.end_error is not None:
            return f"{self.ending}() raised {describe_error(self.end_error)} at t={self.ended_at:g} s"
        return f"{self.ending}() returned at t={self.ended_at:g} s"


def _run_batcher(
    make_batcher: MakeBatcher,
    arrivals: Arrivals,
    *,
    batch_size: int,
    max_wait: float,
    duration: float,
    end_at: float,
    failing: Iterable[Hashable] = (),
    ending: str = "close",
    give_up: Iterable[Hashable] = (),
) -> BatcherRun:
    """The scenario: callers submit at their times; ``ending`` (close or abort) is called at ``end_at``.

    After close(), close() is called a second time, at once; after either, a late submit()."""
    quitters = frozenset(give_up)
    record = BatcherRun(
        run=VirtualRun("hung", None, None, [], 0.0, DEADLINE),
        work=BatchWorkload(duration, failing),
        arrivals=list(arrivals),
        ending=ending,
        end_at=end_at,
    )

    async def scenario() -> None:
        batcher = record.batcher = make_batcher(record.work, batch_size=batch_size, max_wait=max_wait)

        async def caller(at: float, item: Hashable) -> Any:
            await asyncio.sleep(at)
            return await traced_submit(batcher, item)

        record.tasks = [asyncio.create_task(caller(at, item), name=f"caller-{item}") for at, item in arrivals]
        for number, task in enumerate(record.tasks):
            task.add_done_callback(functools.partial(_note_done, record, number))
            if arrivals[number][1] in quitters:  # this caller gives up (its task is cancelled) while it waits
                asyncio.get_running_loop().call_at(arrivals[number][0] + GIVE_UP_AFTER, task.cancel)
        await asyncio.sleep(end_at)
        await _end_the_batcher(record, batcher)

    record.run = run_virtual(scenario, deadline=DEADLINE)
    return record


async def _end_the_batcher(record: BatcherRun, batcher: BatcherUnderCheck) -> None:
    """close() (and close() again) or abort() now; note how it ended and who still waits, try a late
    submit(), then stop what is left."""
    loop = asyncio.get_running_loop()
    end = asyncio.create_task(getattr(batcher, record.ending)(), name=record.ending)
    again = asyncio.create_task(_close_again(batcher, record), name="close-again") if record.ending == "close" else None
    await asyncio.wait({end}, timeout=GRACE)
    if end.done():
        record.ended_at = loop.time()
        record.end_error = asyncio.CancelledError() if end.cancelled() else end.exception()
        await sleep_until(max((at for at, _ in record.arrivals), default=0.0))
        for _ in range(3):  # callers whose futures were just resolved finish now
            await asyncio.sleep(0)
    else:
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        record.stuck_at_end = [task.describe() for task in describe_pending(pending)]
    record.waiting = [number for number, task in enumerate(record.tasks) if not task.done()]
    if again is not None:
        await asyncio.wait({again}, timeout=GRACE)
    if record.ended_at is not None and record.end_error is None:
        record.late_submit = await _late_submit(batcher)
    for task in [end, *([again] if again else []), *record.tasks]:  # they would wait for ever: stop them
        task.cancel()
    await asyncio.wait([end, *([again] if again else []), *record.tasks])
    for task in [end, *record.tasks]:  # retrieve errors, so that asyncio does not log them
        if not task.cancelled():
            task.exception()


def _note_done(record: BatcherRun, number: int, task: asyncio.Task[Any]) -> None:
    """A done callback: caller ``number``'s task ended now."""
    record.done_at.setdefault(number, task.get_loop().time())


async def _close_again(batcher: BatcherUnderCheck, record: BatcherRun) -> None:
    """close() a second time, just after the first, as leaving an ``async with`` block does (the
    given ``__aexit__`` calls close()): it must return, no earlier than the first."""
    await asyncio.sleep(0)

    async def close_again() -> None:
        if hasattr(batcher, "__aexit__"):
            await batcher.__aexit__(None, None, None)
        else:
            await batcher.close()

    record.again = await timed_call(close_again())


async def _late_submit(batcher: BatcherUnderCheck) -> str:
    """What ``submit()`` does after close()/abort() returned, within 1 s: ``RuntimeError`` is right."""
    late = asyncio.create_task(batcher.submit("late"), name="late-submit")
    await asyncio.wait({late}, timeout=1.0)
    if not late.done():
        late.cancel()
        await asyncio.wait({late})
        return "was still waiting 1 s later"
    error = None if late.cancelled() else late.exception()
    if isinstance(error, RuntimeError):
        return ""
    return "was cancelled" if late.cancelled() else f"raised {describe_error(error)}" if error else "returned"


def _describe_calls(record: BatcherRun) -> str:
    """The handler calls of a run: ``[1, 2] at t=0.5 s, ...``."""
    return ", ".join(f"{items!r} at t={time:g} s" for time, items in record.calls) or "nothing"


def _where(error: BaseException | None) -> str:
    """`` at line N of f()``: where ``error`` was raised (its innermost frame), if known."""
    where = learner_line(error) if error is not None else ""
    return f" {where}" if where else ""


def _raised_in(error: BaseException) -> str:
    """The name of the function in which ``error`` was raised (the innermost frame)."""
    frames = traceback.extract_tb(error.__traceback__)
    return frames[-1].name if frames else "a method"


def batcher_can_be_used(chain: Chain, record: BatcherRun) -> None:
    """The scenario itself ran: no block, no error of the batcher's constructor, no placeholder."""
    if record.run.outcome != "returned":
        chain.require_finished(record.run, "the scenario")
    errors = [record.error_of(number) for number in range(len(record.tasks))] + [record.end_error]
    placeholder = next((error for error in errors if isinstance(error, NotImplementedError)), None)
    if placeholder is not None:
        chain.fail(
            "MicroBatcher is implemented",
            observed=f"{_raised_in(placeholder)}() raised NotImplementedError: the placeholder is still there",
            hint="replace each `raise NotImplementedError()` in the class with your code, then run the cell again",
        )
    chain.passed("the batcher can be used by concurrent callers")


def batcher_ends(chain: Chain, record: BatcherRun) -> None:
    """close() or abort() returned, without raising, within GRACE."""
    verb = record.ending
    handled_stop = any(entry is STOP for _, items in record.calls for entry in items)
    if verb == "close" and handled_stop:
        hint = (
            "STOP reached the handler: take it off the batch (batch.pop()) before you deliver what came before "
            "it, and deliver nothing if nothing did"
        )
    elif verb == "close":
        hint = (
            "close() puts STOP in the inbox and awaits the batch loop: the loop must return once it takes STOP "
            "and every delivery has finished (an error escaping a delivery ends the loop with that error)"
        )
    elif isinstance(record.end_error, asyncio.CancelledError):
        hint = (
            "awaiting the cancelled batch-loop task (`await self._loop_task`) raises its CancelledError in "
            "abort(): wait for it with `await asyncio.wait({self._loop_task})`, which does not raise"
        )
    else:
        hint = (
            "abort() cancels the batch-loop task and waits for it (asyncio.wait), without awaiting anything "
            "that waits for the handler"
        )
    chain.require(
        record.ended_at is not None and record.end_error is None,
        f"{verb}() returns",
        observed=lambda: (
            f"{verb}() was called at t={record.end_at:g} s; {record.ended()}"
            + ("".join(f"\n    {line}" for line in record.stuck_at_end))
        ),
        hint=hint,
    )


def no_future_is_kept(chain: Chain, record: BatcherRun) -> None:
    """Once every caller has its outcome, ``self._waiting`` holds none of their futures."""
    kept = getattr(record.batcher, "_waiting", None)
    kept = [future for future in kept if isinstance(future, asyncio.Future)] if isinstance(kept, set) else []
    chain.require(
        not kept,
        "a caller's future leaves self._waiting whatever happens",
        observed=lambda: (
            f"once every caller had its outcome ({record.ended()}), self._waiting still held "
            f"{len(kept)} futures: " + ", ".join(sorted(_describe_future(future) for future in kept)[:4])
        ),
        hint="a caller who gave up leaves submit() by asyncio.CancelledError, which `except Exception` does not "
        "catch: remove the future in a `finally:` around `return await future`"
        if kept and all(future.cancelled() for future in kept)
        else "remove the future in a `finally:` around `return await future`: a caller whose batch failed "
        "(or who gave up) leaves submit() by an exception, and skips a discard() placed after the await",
    )


def submit_after_the_end_raises(chain: Chain, record: BatcherRun) -> None:
    """A submit() after close() or abort() returned raised RuntimeError."""
    hint = {
        "close": "close() sets a flag; submit() checks it first and raises RuntimeError, so nobody waits on a "
        "batcher that has stopped",
        "abort": "abort() sets self._closed too: submit() checks it first and raises RuntimeError, so nobody waits "
        "on a batch loop that was cancelled",
    }[record.ending]
    chain.require(
        not record.late_submit,
        f"submit() after {record.ending}() raises RuntimeError",
        observed=f"after {record.ending}() returned, submit('late') {record.late_submit}",
        hint=hint,
    )


# The behaviours, one check each.


@learner_facing
def check_batcher_flushes(
    make_batcher: MakeBatcher,
    *,
    arrivals: Arrivals = DEFAULT_ARRIVALS,
    batch_size: int = 3,
    max_wait: float = 0.5,
) -> None:
    """A batch goes to the handler when it is full, or ``max_wait`` s after its first item.

    The handler is instant; ``close()`` is called once every batch should have gone."""
    chain = Chain("MicroBatcher")
    close_at = max(at for at, _ in arrivals) + max_wait + 1.0
    record = _run_batcher(
        make_batcher, arrivals, batch_size=batch_size, max_wait=max_wait, duration=0.0, end_at=close_at
    )
    batcher_can_be_used(chain, record)
    handler_gets_each_item_once(chain, record)
    expected = [batch for batch in expected_batches(arrivals, batch_size, max_wait) if batch.time < close_at]
    times = sorted(at for at, _ in arrivals)
    rule = Rule(batch_size, max_wait, verb="handed to the handler")
    batches_close_by_the_rule(chain, record.calls, expected, times, rule)


def handler_gets_each_item_once(chain: Chain, record: BatcherRun) -> None:
    handled = [item for _, items in record.calls for item in items]
    chain.require(
        sorted(handled, key=repr) == sorted((item for _, item in record.arrivals), key=repr),
        "the handler gets each item exactly once",
        observed=lambda: f"the handler was called with {_describe_calls(record)}",
        hint="STOP reached the handler: take it off the batch before you deliver the batch"
        if any(item is STOP for item in handled)
        else "put each submitted entry in the inbox once, and hand every batch you collect to the handler once",
    )


@learner_facing
def check_batcher_results(
    make_batcher: MakeBatcher,
    *,
    arrivals: Arrivals = ((0.0, "a"), (0.1, "b"), (0.2, "a"), (0.3, "c"), (0.4, "d"), (0.5, "c")),
    batch_size: int = 3,
    max_wait: float = 0.5,
    duration: float = 1.0,
) -> None:
    """Each caller gets its own item's result (``("done", item)``), also when two callers
    submit the same item; ``close()`` is called once every batch should be done."""
    chain = Chain("MicroBatcher")
    close_at = max(at for at, _ in arrivals) + max_wait + duration + 1.0
    record = _run_batcher(
        make_batcher, arrivals, batch_size=batch_size, max_wait=max_wait, duration=duration, end_at=close_at
    )
    batcher_can_be_used(chain, record)
    each_caller_gets_its_own_result(chain, record)


def each_caller_gets_its_own_result(chain: Chain, record: BatcherRun) -> None:
    for number, (_, item) in enumerate(record.arrivals):
        task = record.tasks[number]
        ok = number not in record.waiting and not task.cancelled() and task.exception() is None
        _require_quietly(
            chain,
            ok and task.result() == Workload.expected(item),
            "each caller gets exactly its own result",
            observed=f"{record.caller(number)} {record.outcome(number)}, expected {Workload.expected(item)!r} "
            f"(the handler was called with {_describe_calls(record)})",
            hint="give each caller a future of its own, put (item, future) in the inbox and await that future: "
            "a dict keyed by item mixes up callers who submit the same item"
            if number in record.waiting
            else "the handler's i-th result belongs to the batch's i-th entry: hand each batch to deliver()",
        )
    chain.passed("each caller gets exactly its own result")


@learner_facing
def check_batcher_failures(
    make_batcher: MakeBatcher,
    *,
    arrivals: Arrivals = tuple((n / 10, n) for n in range(1, 10)) + ((2.0, 10), (2.1, 11), (2.2, 12)),
    batch_size: int = 3,
    max_wait: float = 0.5,
    duration: float = 0.5,
    failing: Iterable[Hashable] = (5,),
    give_up: Iterable[Hashable] = (),
) -> None:
    """The handler raises ItemFailed for a batch holding a ``failing`` item (the items are distinct,
    so that each caller's batch is known): exactly that batch's
    callers get the error; the others, later callers too, get their results. The callers of the
    ``give_up`` items give up (their tasks are cancelled) GIVE_UP_AFTER s after they submit: they end
    as cancelled, and nobody else notices. Then no caller's future is left in ``self._waiting``."""
    chain = Chain("MicroBatcher")
    failing, give_up = frozenset(failing), frozenset(give_up)
    close_at = max(at for at, _ in arrivals) + max_wait + duration + 1.0
    record = _run_batcher(
        make_batcher,
        arrivals,
        batch_size=batch_size,
        max_wait=max_wait,
        duration=duration,
        end_at=close_at,
        failing=failing,
        give_up=give_up,
    )
    batcher_can_be_used(chain, record)
    failed = [(time, items) for time, items in record.calls if failing & set(items)]
    every_caller_of_a_failing_batch_gets_the_error(chain, record, failed, duration, give_up)
    a_failing_batch_fails_only_its_own_callers(chain, record, failed, duration, give_up)
    if give_up:
        a_caller_who_gives_up_ends_as_cancelled(chain, record, give_up)
    batcher_ends(chain, record)
    no_future_is_kept(chain, record)


GIVE_UP_AFTER = 0.05  # seconds after submitting that a caller of a ``give_up`` item gives up


def a_caller_who_gives_up_ends_as_cancelled(chain: Chain, record: BatcherRun, give_up: frozenset[Hashable]) -> None:
    for number, (at, item) in enumerate(record.arrivals):
        if item in give_up:
            _require_quietly(
                chain,
                number not in record.waiting and record.tasks[number].cancelled(),
                "a caller who gives up ends as cancelled",
                observed=f"{record.caller(number)} was cancelled at t={at + GIVE_UP_AFTER:g} s, and "
                f"{record.outcome(number)}",
                hint="let the CancelledError of `await future` propagate out of submit(): catch nothing there but "
                "remove the future from self._waiting in a `finally:`",
            )
    chain.passed("a caller who gives up ends as cancelled, and nobody else notices")


def every_caller_of_a_failing_batch_gets_the_error(
    chain: Chain,
    record: BatcherRun,
    failed: list[tuple[float, list[Any]]],
    duration: float,
    gave_up: frozenset[Hashable] = frozenset(),
) -> None:
    in_failed = {item for _, items in failed for item in items}
    fail_times = ", ".join(f"t={time + duration:g} s" for time, _ in failed)
    for number, (_, item) in enumerate(record.arrivals):
        if item in in_failed and item not in gave_up:
            _require_quietly(
                chain,
                isinstance(record.error_of(number), ItemFailed),
                "every caller of a failing batch gets the handler's error",
                observed=f"the handler call for {describe_values(sorted(in_failed, key=repr))} raised ItemFailed "
                f"at {fail_times}; {record.caller(number)} {record.outcome(number)}; {record.ended()}",
                hint="catch the handler's error where the batch is delivered and set it on every future of "
                "that batch (deliver() does this): an error nobody catches reaches none of the callers",
            )
    chain.passed("every caller of a failing batch gets the handler's error")


def a_failing_batch_fails_only_its_own_callers(
    chain: Chain,
    record: BatcherRun,
    failed: list[tuple[float, list[Any]]],
    duration: float,
    gave_up: frozenset[Hashable] = frozenset(),
) -> None:
    in_failed = {item for _, items in failed for item in items}
    for number, (at, item) in enumerate(record.arrivals):
        if item not in in_failed and item not in gave_up:
            after = " (it arrived after the failure)" if failed and at > failed[0][0] + duration else ""
            _require_quietly(
                chain,
                record.got_result(number, item),
                "a failing batch fails only its own callers",
                observed=f"{record.caller(number)}{after} {record.outcome(number)}, expected "
                f"{Workload.expected(item)!r}; the handler was called with "
                f"{_describe_calls(record)}; {record.ended()}",
                hint="one failing batch must not stop the batch loop or touch other batches: if a delivery task "
                "raises, the TaskGroup cancels the loop and every other delivery. Catch the error inside the "
                "delivery (deliver() never raises)",
            )
    chain.passed("a failing batch fails only its own callers")


@learner_facing
def check_batcher_close(
    make_batcher: MakeBatcher,
    *,
    arrivals: Arrivals = ((0.0, 1), (0.1, 2), (0.2, 3), (0.3, 4), (1.5, 5)),
    batch_size: int = 3,
    max_wait: float = 2.0,
    duration: float = 1.0,
    close_at: float = 1.7,
    abort_at: float = 0.5,
) -> None:
    """close() at ``close_at``, while a batch is open, and again at once (by leaving ``async with``);
    then the same callers with abort() at ``abort_at`` instead. Nobody may be left waiting, nothing
    left running, and a submit() after either raises RuntimeError."""
    chain = Chain("MicroBatcher")
    record = _run_batcher(
        make_batcher, arrivals, batch_size=batch_size, max_wait=max_wait, duration=duration, end_at=close_at
    )
    batcher_can_be_used(chain, record)
    close_flushes_the_open_batch(chain, record, batch_size, max_wait)
    batcher_ends(chain, record)
    nobody_waits_after_close(chain, record)
    close_twice_returns_once_nobody_waits(chain, record)
    submit_after_the_end_raises(chain, record)
    chain.require_no_leftover_tasks(record.run, "close()")
    aborted = _run_batcher(
        make_batcher,
        arrivals,
        batch_size=batch_size,
        max_wait=max_wait,
        duration=duration,
        end_at=abort_at,
        ending="abort",
    )
    batcher_can_be_used(chain, aborted)
    batcher_ends(chain, aborted)
    running = [
        items
        for time, items in aborted.calls
        if time <= abort_at + 1e-9 and time + duration > abort_at + 1e-9 and duration > 0
    ]
    abort_returns_at_once(chain, aborted, running)
    abort_cancels_the_calls_in_progress(chain, aborted, running)
    nobody_waits_after_abort(chain, aborted, running)
    submit_after_the_end_raises(chain, aborted)
    abort_leaves_no_task_running(chain, aborted)


def abort_leaves_no_task_running(chain: Chain, aborted: BatcherRun) -> None:
    """Nothing the batcher started is pending once abort() has returned (the scenario's end)."""
    leftover = aborted.run.leftover
    getters = [task for task in leftover if task.coroutine == "get" or "queue.get()" in task.waiting_on]
    chain.require(
        not leftover,
        "abort() leaves no task running when it returns",
        observed=lambda: "; ".join(task.describe() for task in leftover),
        hint="a task waiting on the inbox was left: your collect_batch (exercise 1) starts a getter task "
        "(`inbox.get()` for asyncio.wait) and leaves it when it is itself cancelled, as abort() cancels the "
        "batch loop while it collects. Cancel the getter in a `finally:` in collect_batch"
        if getters
        else "await every task you create (a TaskGroup does it for you) before returning",
    )


def close_flushes_the_open_batch(chain: Chain, record: BatcherRun, batch_size: int, max_wait: float) -> None:
    """The batch open when close() is called goes to the handler then (if there is one)."""
    close_at, arrivals = record.end_at, record.arrivals
    stream = iter(sorted(arrivals, key=lambda arrival: arrival[0]))  # the batches take the entries in this order
    open_at_close = [
        item
        for batch in expected_batches(arrivals, batch_size, max_wait)
        for at, item in [next(stream) for _ in batch.entries]
        if batch.first < close_at < batch.time and at < close_at
    ]
    if not open_at_close:
        return
    at_close = [items for time, items in record.calls if abs(time - close_at) < 1e-9]
    chain.require(
        any(set(open_at_close) <= set(items) for items in at_close),
        "close() hands the open batch to the handler at once",
        observed=lambda: (
            f"close() was called at t={close_at:g} s with {describe_values(open_at_close)} "
            f"waiting for their batch; handler calls: " + _describe_calls(record)
        ),
        hint="close() puts STOP in the inbox; when the batch loop takes STOP it delivers the batch it holds "
        "(without STOP) before it returns",
    )


def _still_waiting(record: BatcherRun) -> str:
    """How close()/abort() ended, and who was still waiting then."""
    return f"{record.ended()}; then " + "; ".join(
        f"{record.caller(number)} was still waiting" for number in record.waiting
    )


def nobody_waits_after_close(chain: Chain, record: BatcherRun) -> None:
    chain.require(
        not record.waiting,
        "after close() returns, no caller is left waiting",
        observed=lambda: _still_waiting(record),
        hint="close() must wait until every delivery has finished: await the batch loop, and let the loop "
        "return only after its deliveries (an `async with asyncio.TaskGroup()` around them does it)",
    )


def close_twice_returns_once_nobody_waits(chain: Chain, record: BatcherRun) -> None:
    again, last = record.again, record.last_outcome_at

    def second() -> str:
        if again is None:
            return "had not returned"
        if again.error is not None:
            return f"raised {describe_error(again.error)}"
        return f"returned at t={again.ended:g} s, the last caller got its outcome at t={last:g} s"

    chain.require(
        again is not None and again.error is None and again.ended is not None and again.ended >= last - 1e-9,
        "close() called twice returns, both times once no caller is waiting",
        observed=lambda: (
            f"close() was called at t={record.end_at:g} s and again at once (leaving `async with`): the second "
            + second()
        ),
        hint="a second close() must not put STOP or set the flag again, but it must still await the batch-loop "
        "task (awaiting a task that has ended returns at once): `if self._closed: return` returns too early",
    )


def abort_returns_at_once(chain: Chain, aborted: BatcherRun, running: list[list[Any]]) -> None:
    abort_at = aborted.end_at
    chain.require(
        aborted.ended_at is not None and aborted.ended_at <= abort_at + 1e-9,
        "abort() returns at once, without waiting for the handler",
        observed=lambda: (
            f"abort() was called at t={abort_at:g} s and returned at t={aborted.ended_at:g} s"
            + (f", while the handler call for {running[0]!r} ran" if running else "")
        ),
        hint="abort() does not flush: it cancels the batch-loop task (its TaskGroup cancels the deliveries, "
        "and deliver() cancels their futures) and waits only for that task to end",
    )


def abort_cancels_the_calls_in_progress(chain: Chain, aborted: BatcherRun, running: list[list[Any]]) -> None:
    abort_at = aborted.end_at
    ends = {tuple(event["item"]): event.time or 0.0 for event in aborted.run.of_kind(Kind.WORK_END)}
    went_on = [
        (items, ends.get(tuple(items))) for items in running if ends.get(tuple(items), DEADLINE) > abort_at + 1e-9
    ]
    chain.require(
        not went_on,
        "abort() cancels the handler calls in progress",
        observed=lambda: (
            f"abort() returned at t={abort_at:g} s; the handler call for {went_on[0][0]!r} went on "
            + (f"until t={went_on[0][1]:g} s" if went_on[0][1] is not None else "and never ended")
        ),
        hint="start the deliveries in the batch loop's TaskGroup: cancelling the loop task then cancels them, "
        "and abort(), waiting for the loop task, waits for them to end",
    )


def nobody_waits_after_abort(chain: Chain, aborted: BatcherRun, running: list[list[Any]]) -> None:
    late = [number for number in aborted.waiting if aborted.arrivals[number][0] > aborted.end_at]
    chain.require(
        not aborted.waiting,
        "after abort() returns, no caller is left waiting",
        observed=lambda: _still_waiting(aborted),
        hint="this caller called submit() after abort(): abort() sets self._closed, and submit() checks it first "
        "and raises RuntimeError"
        if late and len(late) == len(aborted.waiting)
        else "abort() cancels the batch loop, but entries still in the inbox or in the batch being collected "
        "have no delivery to cancel them: cancel every future in self._waiting"
        if not {aborted.arrivals[number][1] for number in aborted.waiting} & {i for items in running for i in items}
        else "the deliveries running at abort() must end too: start them in the batch loop's TaskGroup (cancelling "
        "the loop cancels them), and let deliver() cancel its futures when it is cancelled",
    )


@learner_facing
def check_batcher_slow_handler(
    make_batcher: MakeBatcher,
    *,
    arrivals: Arrivals = tuple((n / 10, n) for n in range(6)),
    batch_size: int = 3,
    max_wait: float = 0.5,
    duration: float = 2.0,
) -> None:
    """The handler takes ``duration`` s, longer than the gaps between full batches: each batch
    must still go to the handler as soon as it is full, while earlier calls run."""
    chain = Chain("MicroBatcher")
    close_at = max(at for at, _ in arrivals) + max_wait + duration + 1.0
    record = _run_batcher(
        make_batcher, arrivals, batch_size=batch_size, max_wait=max_wait, duration=duration, end_at=close_at
    )
    batcher_can_be_used(chain, record)
    expected = expected_batches(arrivals, batch_size, max_wait)
    slow_handler_does_not_delay_the_next_batch(chain, record, expected, duration)


def slow_handler_does_not_delay_the_next_batch(
    chain: Chain, record: BatcherRun, expected: list[Batch], duration: float
) -> None:
    starts = record.run.of_kind(Kind.WORK_START)
    for number, (want, (time, items)) in enumerate(zip(expected, record.calls, strict=False)):
        running = [(start, got) for start, got in record.calls[:number] if start < want.time < start + duration]
        if time > want.time + 1e-9 and running:
            chain.fail(
                "a slow handler does not delay the next batch",
                observed=f"batch {items!r} was handed to the handler at t={time:g} s; it was full at "
                f"t={want.time:g} s, while the call for {running[-1][1]!r} (from t={running[-1][0]:g} s, "
                f"{duration:g} s long) was still running",
                hint=_slow_handler_hint(starts[number - 1].task or ""),
            )
    chain.passed("a slow handler does not delay the next batch")


def _slow_handler_hint(task: str) -> str:
    """Why the handler calls could not overlap, from the task the previous one ran in."""
    if task.startswith("caller-"):
        return (
            f"the handler ran inside submit() (in the task {task}): submit() only puts (item, future) in the "
            "inbox and awaits the future; the batch loop calls the handler, and nothing waits for it under a lock"
        )
    if task == "batch-loop":
        return (
            "the batch loop awaited the handler itself, so it could not collect the next batch meanwhile: "
            "start each delivery in a task of its own, deliveries.create_task(deliver(batch, self.handler))"
        )
    return (
        "each call ran in a task of its own, yet they never overlapped: something held across the handler call "
        "(a lock that submit() or the next delivery also needs, as in document 000) made them wait. Hold nothing "
        "while the handler runs"
    )


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


@dataclass
class Chunked:
    """process_in_chunks on ``items`` with ``work`` as the handler: the run, and the chunks it should make."""

    items: list[Any]
    chunks: list[list[Any]]
    work: BatchWorkload
    run: VirtualRun[object]


def run_in_chunks(
    process_in_chunks: ProcessInChunks, items: list[Any], work: BatchWorkload, chunk_size: int, concurrency: int
) -> Chunked:
    """The scenario: one call of process_in_chunks, with ``work`` as the handler."""
    chunks = [items[start : start + chunk_size] for start in range(0, len(items), chunk_size)]
    run = run_virtual(
        lambda: process_in_chunks(list(items), work, chunk_size=chunk_size, concurrency=concurrency), deadline=DEADLINE
    )
    return Chunked(items, chunks, work, run)


@learner_facing
def check_process_in_chunks(
    process_in_chunks: ProcessInChunks,
    *,
    items: Sequence[Hashable] = tuple(range(1, 15)),
    chunk_size: int = 3,
    concurrency: int = 2,
    slow: Iterable[Hashable] = (1,),
    slow_time: float = 3.0,
    time: float = 1.0,
    failing: Hashable | None = 8,
    cancel_each_wait: bool = False,
) -> None:
    """Chunks of ``items``; the chunk holding a ``slow`` item takes ``slow_time`` s, others ``time``.

    Then again with ``failing`` making its chunk's call raise (unless it is None). With
    ``cancel_each_wait``, then the cancellation sweep: the first run cancelled at each of its
    waits in turn (:func:`check_process_in_chunks_cancelled`)."""
    chain = Chain("process_in_chunks")
    chain.require_async_function(process_in_chunks, "process_in_chunks")
    duration = _chunk_duration(slow, slow_time, time)
    chunked = run_in_chunks(process_in_chunks, list(items), BatchWorkload(duration), chunk_size, concurrency)
    process_in_chunks_runs_to_the_end(chain, chunked)
    handler_gets_each_chunk_once(chain, chunked, chunk_size)
    results_come_back_in_input_order(chain, chunked)
    chain.require_no_leftover_tasks(chunked.run, "process_in_chunks")
    at_most_concurrency_chunks_at_once(chain, chunked, concurrency)
    a_new_chunk_starts_as_soon_as_a_call_finishes(chain, chunked, concurrency)
    if failing is not None:
        work = BatchWorkload(duration, {failing})
        failed = run_in_chunks(process_in_chunks, list(items), work, chunk_size, concurrency)
        a_failing_chunk_makes_it_raise(chain, failed, failing)
        no_chunk_starts_after_a_failure(chain, failed, failing)
        no_call_is_left_running_after_a_failure(chain, failed)
    if cancel_each_wait:
        check_process_in_chunks_cancelled(chain, process_in_chunks, chunked, chunk_size, concurrency, duration)


def check_process_in_chunks_cancelled(
    chain: Chain,
    process_in_chunks: ProcessInChunks,
    whole: Chunked,
    chunk_size: int,
    concurrency: int,
    duration: Callable[[list[Any]], float],
) -> None:
    """The cancellation sweep (the kit's :func:`cancellation_sweep`): the run of ``whole`` again,
    cancelled in turn as it starts and at each of its waits (calls running and chunks queued): the
    CancelledError must come out of it, and no call may be left running."""

    def call() -> Awaitable[object]:
        work = BatchWorkload(duration)
        return process_in_chunks(list(whole.items), work, chunk_size=chunk_size, concurrency=concurrency)

    swept = cancellation_sweep(chain, "process_in_chunks", alone_on_the_clock(call, deadline=DEADLINE))
    ends_cancelled_at_each_wait(
        chain,
        "process_in_chunks",
        swept,
        hint="do not catch the cancellation: a bare `except:` or `except BaseException` (or a worker that "
        "catches CancelledError and goes on) turns it into a result; catch `Exception` at most, or nothing",
    )
    leaves_no_task_at_any_wait(
        chain,
        "process_in_chunks",
        swept,
        prop="a cancelled process_in_chunks leaves no call running",
        hint="cancel and await the calls in a `finally:` (or let a TaskGroup do it): cleanup placed after "
        "`await asyncio.wait(...)` is skipped when the wait itself is cancelled",
    )


def process_in_chunks_runs_to_the_end(chain: Chain, chunked: Chunked) -> None:
    run, work = chunked.run, chunked.work
    if run.outcome == "raised" and not isinstance(run.error, NotImplementedError):
        chain.fail(
            "process_in_chunks runs without raising",
            observed=f"raised {describe_error(run.error)}{_where(run.error)}"
            + (f" after the handler was called with {', '.join(map(repr, work.batches))}" if work.batches else ""),
            hint="with no items there is no chunk: return [] without calling the handler (asyncio.wait() "
            "and a worker count of min(concurrency, len(chunks)) both need care with zero chunks)"
            if not chunked.items
            else "no call failed in this run: the error comes from your own code. Run the scenario line above "
            "in a cell of its own and read the traceback",
        )
    chain.require_finished(run, "process_in_chunks")


def handler_gets_each_chunk_once(chain: Chain, chunked: Chunked, chunk_size: int) -> None:
    batches, chunks = chunked.work.batches, chunked.chunks
    chain.require(
        sorted(batches, key=repr) == sorted(chunks, key=repr),
        f"the handler gets consecutive chunks of {chunk_size} item{'s' if chunk_size != 1 else ''}, each once",
        observed=lambda: (
            f"the handler was called with {', '.join(map(repr, batches)) or 'nothing'}; "
            f"the chunks are {', '.join(map(repr, chunks)) or 'none'}"
        ),
        hint="cut the items as items[i:i + chunk_size] for i in range(0, len(items), chunk_size): the last "
        "chunk may be shorter, and each chunk goes to exactly one call",
    )


def results_come_back_in_input_order(chain: Chain, chunked: Chunked) -> None:
    value = chunked.run.value
    chain.require(
        value == [Workload.expected(item) for item in chunked.items],
        "the results come back in input order",
        observed=lambda: (
            f"returned {describe_values(list(value), 6)}" if isinstance(value, list) else f"returned {value!r:.100}"
        ),
        hint="store each chunk's results at the chunk's index, then concatenate in index order "
        "(appending as calls finish gives completion order)",
    )


def at_most_concurrency_chunks_at_once(chain: Chain, chunked: Chunked, concurrency: int) -> None:
    peak = peak_in_flight(chunked.run.events)
    chain.require(
        peak <= concurrency,
        f"at most {concurrency} chunks are handled at once",
        observed=f"{peak} handler calls ran at the same time",
        hint="run the calls through `concurrency` workers, or hold an asyncio.Semaphore(concurrency) around each call",
    )


def a_new_chunk_starts_as_soon_as_a_call_finishes(chain: Chain, chunked: Chunked, concurrency: int) -> None:
    idle = idle_slots(chunked.run.events, len(chunked.chunks), concurrency)
    chain.require(
        idle is None,
        "a new chunk starts as soon as a call finishes",
        observed=lambda: _describe_idle(idle, concurrency),
        hint="do not run the chunks in waves of `concurrency` (each wave waits for its slowest call, "
        "as in document 004) nor one after another: let each free worker take the next chunk at once",
    )


def _describe_idle(idle: tuple[float, int, int] | None, concurrency: int) -> str:
    if idle is None:
        return ""
    at, running, waiting = idle
    return (
        f"at t={at:g} s only {running} call{'s' if running != 1 else ''} ran (the limit is {concurrency}) "
        f"while {waiting} chunk{'s' if waiting != 1 else ''} had not started"
    )


def a_failing_chunk_makes_it_raise(chain: Chain, failed: Chunked, failing: Hashable) -> None:
    run = failed.run
    if run.outcome in ("hung", "blocked"):
        chain.require_finished(run, "process_in_chunks with a failing chunk")
    seen = f"returned {run.value!r:.100}" if run.outcome == "returned" else f"raised {describe_error(run.error)}"
    chain.require(
        find_item_failure(run.error) is not None,
        "a failing chunk makes process_in_chunks raise its error",
        observed=f"item {failing!r}'s chunk raised ItemFailed, and process_in_chunks {seen}",
        hint="let the handler's exception propagate (a TaskGroup raises it in an ExceptionGroup); "
        "do not use return_exceptions=True or swallow it",
    )


def no_chunk_starts_after_a_failure(chain: Chain, failed: Chunked, failing: Hashable) -> None:
    run = failed.run
    failed_at = next(event.time or 0.0 for event in run.of_kind(Kind.WORK_END) if event["outcome"] == "failed")
    late = [event for event in run.of_kind(Kind.WORK_START) if (event.time or 0.0) > failed_at + 1e-9]
    chain.require(
        not late,
        "after a chunk fails, no new chunk starts",
        observed=lambda: (
            f"the chunk of {failing!r} failed at t={failed_at:g} s, then chunk "
            f"{list(late[0]['item'])!r} started at t={late[0].time:g} s"
        ),
        hint="do not catch the error in a worker and go on: let it end the worker, and start the calls in a "
        "TaskGroup, so that the first error cancels the rest",
    )


def no_call_is_left_running_after_a_failure(chain: Chain, failed: Chunked) -> None:
    running = failed.run.leftover
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
    "check_batcher_close",
    "check_batcher_failures",
    "check_batcher_flushes",
    "check_batcher_results",
    "check_batcher_slow_handler",
    "check_process_in_chunks",
    "expected_batches",
    "greedy_makespan",
]
