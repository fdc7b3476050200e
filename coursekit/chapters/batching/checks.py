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
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ParamSpec

from coursekit.analysis import idle_slots, peak_in_flight
from coursekit.chapters.batching.analysis import batch_handler_calls
from coursekit.chapters.batching.given import traced_submit
from coursekit.checks import Chain, describe_error, describe_values, learner_facing, learner_line
from coursekit.events import Kind
from coursekit.queues import STOP, TracedQueue
from coursekit.scenario import sleep_until
from coursekit.stuck_tasks import describe_pending
from coursekit.virtual_time import VirtualRun, run_virtual
from coursekit.workload import BatchWorkload, ItemFailed, Workload, find_item_failure

DEADLINE = 120.0  # simulated seconds; every scenario below needs far less
Arrivals = Sequence[tuple[float, Hashable]]
P = ParamSpec("P")

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
        empty = [time for time, batch in got if not batch]
        chain.require(
            not empty,
            f"{what} waits for the first entry with no time limit",
            observed=f"it returned an empty batch at t={empty[0]:g} s" if empty else "",
            hint="take the first entry with a plain `await inbox.get()`: the max_wait clock starts only once "
            "a batch has its first entry",
        )
        if stop_at is None:
            flat = [entry for _, batch in got for entry in batch]
            chain.require(
                flat == items,
                "every entry is returned once, in arrival order",
                observed=f"entries returned, in order: {describe_values(flat, 12)}; arrived: "
                f"{describe_values(items, 12)}",
                hint="append each entry you take to the batch; take entries only with inbox.get()",
            )
            big = [batch for _, batch in got if len(batch) > batch_size]
            chain.require(
                not big,
                f"no batch holds more than batch_size={batch_size} entries",
                observed=f"a batch of {len(big[0])}: {describe_values(big[0])}" if big else "",
                hint="stop taking entries as soon as len(batch) == batch_size (`<`, not `<=`, in the loop's test)",
            )
        expected = expected_batches(arrivals, batch_size, max_wait, stop_at)
        _require_batches_match(chain, got, expected, sorted(time for time, _ in arrivals), batch_size, max_wait)


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
            if not got[-1][1] and len(got) > 2 * wanted + 2:  # empty batches, again and again
                return
            if any(entry is STOP for entry in got[-1][1]) or not isinstance(batch, (list, tuple)):
                return
            if stop_at is None and taken >= wanted:
                return

    return got, run_virtual(scenario, deadline=DEADLINE)


def _collect_hang_hint(run: VirtualRun[Any], got: list[tuple[float, list[Any]]], items: list[Any]) -> str:
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


def _require_batches_match(
    chain: Chain,
    got: list[tuple[float, list[Any]]],
    expected: list[Batch],
    times: Sequence[float],
    batch_size: int,
    max_wait: float,
    *,
    what: str = "batch",
    verb: str = "returned",
    stop_prop: str = "taking STOP ends the batch at once",
) -> None:
    """Compare batch by batch; the first difference names the rule it breaks, and a hint about its likely cause.

    ``times`` are the entries' arrival times, in order (a batch that closed as an entry arrived
    closed because it counted itself full)."""
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
            stop_first = want.entries[0] is STOP
            chain.fail(
                stop_prop,
                observed=seen,
                hint="stop collecting when you take STOP, and return the batch with STOP as its last element"
                + (
                    "; here STOP is the first entry of its batch: test for it right after the first get, too"
                    if stop_first
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
        chain.fail(
            f"a partial {what} is {verb} {max_wait:g} s after its first entry",
            observed=f"{seen} (its first entry arrived at t={want.first:g} s)",
            hint=_deadline_hint(
                time,
                times[before + len(real) - 1] if 0 < len(real) <= len(times) - before else None,
                want,
                max_wait,
                what,
            ),
        )
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
    chain.passed(f"each {what} closes when full or {max_wait:g} s after its first entry, whichever is first")
    if any(batch.reason == "stop" for batch in expected):
        chain.passed(stop_prop)


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
    deliver: Callable[..., Any],
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
        _require_delivered(chain, case)
    chain.passed("deliver runs to the end on every batch, without raising")
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
    shown: set[str] = set()
    for case in cases:
        _require_outcomes(chain, case, shown)
    _check_deliver_cancelled(chain, deliver, list(torn_down), gave_up)


def _require_delivered(chain: Chain, case: _DeliverCase) -> None:
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


def _pending_hint(case: _DeliverCase) -> str:
    if case.miscount:
        return (
            "check that the handler returned one result per item before you set any: zip() stops at the "
            "shorter list. If the count is wrong, set a ValueError on every future"
        )
    if case.fails:
        return "catch the handler's error (except Exception as error) and set it on every future of the batch"
    return "every future needs set_result() or set_exception(), whatever the handler did"


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
    run: VirtualRun[Any] = field(default_factory=lambda: VirtualRun("hung", None, None, [], 0.0, DEADLINE))

    @property
    def pending(self) -> list[Hashable]:
        return [item for item, future in zip(self.items, self.futures, strict=False) if not future.done()]

    def run_with(self, deliver: Callable[..., Any], duration: float) -> None:
        self.work = BatchWorkload(duration, self.fails)

        async def handler(batch: list[Any]) -> list[Any]:
            results = await self.work(batch)
            if self.miscount < 0:
                return results[: self.miscount]
            return results + [("extra", None)] * self.miscount

        async def scenario() -> None:
            loop = asyncio.get_running_loop()
            self.futures = [loop.create_future() for _ in self.items]
            for item, future in zip(self.items, self.futures, strict=True):
                if item in self.gave_up:
                    future.cancel()
            await deliver(list(zip(self.items, self.futures, strict=True)), handler)

        self.run = run_virtual(scenario, deadline=DEADLINE)


def _require_quietly(chain: Chain, holds: bool, prop: str, *, observed: str, hint: str) -> None:
    """Like chain.require, without the ✓ line (for a property tested item by item)."""
    if not holds:
        chain.fail(prop, observed=observed, hint=hint)


def _outcome(future: asyncio.Future[Any]) -> str:
    if future.cancelled():
        return "cancelled"
    error = future.exception()
    return f"error {error!r}" if error is not None else f"result {future.result()!r}"


def _require_outcomes(chain: Chain, case: _DeliverCase, shown: set[str]) -> None:
    """Each caller of this batch got the outcome the statement gives it; a ✓ line per property not ``shown`` yet."""
    if case.fails:
        prop = "every caller of a failed batch gets the handler's error"
    elif case.miscount:
        prop = "a handler that returns the wrong number of results fails every caller with ValueError"
    else:
        prop = "each caller gets exactly its own result"
    for position, (item, future) in enumerate(zip(case.items, case.futures, strict=True)):
        caller = f"the caller of {item!r}" + (f" (entry {position})" if case.items.count(item) > 1 else "")
        if item in case.gave_up:
            _require_quietly(
                chain,
                future.cancelled(),
                "a caller that gave up is left alone",
                observed=f"for {case.label}, the cancelled future of {item!r} now holds {_outcome(future)}",
                hint="skip futures that are already done",
            )
        elif case.fails:
            _require_quietly(
                chain,
                not future.cancelled() and isinstance(future.exception(), ItemFailed),
                prop,
                observed=f"for {case.label}, {caller} got {_outcome(future)}",
                hint="future.set_exception(error) with the very exception the handler raised (not a new one, "
                "not a cancellation), for every future of the batch",
            )
        elif case.miscount:
            _require_quietly(
                chain,
                not future.cancelled() and isinstance(future.exception(), ValueError),
                prop,
                observed=f"for {case.label}, {caller} got {_outcome(future)}",
                hint="if len(results) != len(batch), nobody can tell which result is whose: set a "
                "ValueError on every future, for too many results as for too few",
            )
        else:
            want = Workload.expected(item)
            ok = not future.cancelled() and future.exception() is None and future.result() == want
            _require_quietly(
                chain,
                ok,
                prop,
                observed=f"for {case.label} ({case.items!r}), {caller} got {_outcome(future)}, expected "
                f"result {want!r}",
                hint="the handler's i-th result belongs to the batch's i-th entry: "
                "`for (_, future), result in zip(batch, results)`",
            )
    done = prop if not case.gave_up & set(case.items) else "a caller that gave up is left alone"
    if done not in shown:
        shown.add(done)
        chain.passed(done)


def _check_deliver_cancelled(
    chain: Chain, deliver: Callable[..., Any], items: list[Any], gave_up: frozenset[Any]
) -> None:
    """deliver() is cancelled 1 s into a handler call that would take 1000 s."""
    futures: list[asyncio.Future[Any]] = []
    outcome: list[str] = []

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        futures.extend(loop.create_future() for _ in items)
        for item, future in zip(items, futures, strict=True):
            if item in gave_up:
                future.cancel()
        task = asyncio.create_task(deliver(list(zip(items, futures, strict=True)), BatchWorkload(1000.0)))
        await asyncio.sleep(1.0)
        task.cancel()
        await asyncio.wait({task}, timeout=GRACE)
        if not task.done():
            outcome.append(f"was still running {GRACE:g} s after it was cancelled")
            task.cancel()
            await asyncio.wait({task})
        elif not task.cancelled():
            error = task.exception()
            outcome.append(f"raised {describe_error(error)}" if error is not None else "returned normally")
        for future in futures:  # retrieve what deliver set, so that asyncio does not log it
            if future.done() and not future.cancelled():
                future.exception()

    run = run_virtual(scenario, deadline=DEADLINE)
    chain.require_finished(run, "deliver, cancelled during the handler call,")
    pending = [item for item, future in zip(items, futures, strict=True) if not future.cancelled()]
    chain.require(
        not pending,
        "a cancelled deliver cancels its batch's futures",
        observed=lambda: (
            f"deliver for {items!r} was cancelled 1 s into the handler call; then "
            + "; ".join(
                f"the future of {item!r} {'was still pending' if not future.done() else 'held ' + _outcome(future)}"
                for item, future in zip(items, futures, strict=True)
                if not future.cancelled()
            )
        ),
        hint="`except Exception` does not catch asyncio.CancelledError: add `except asyncio.CancelledError:` "
        "that cancels every future of the batch and then re-raises (`raise`)",
    )
    chain.require(
        not outcome,
        "a cancelled deliver lets the CancelledError propagate",
        observed=lambda: f"deliver for {items!r} was cancelled 1 s into the handler call, and {outcome[0]}",
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

    run: VirtualRun[Any]
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
    again: str = ""  # close() called a second time: how it ended ("" if it returned)
    again_at: float | None = None  # ... and when

    @property
    def calls(self) -> list[tuple[float, list[Any]]]:
        """(time, items) of each handler call."""
        return batch_handler_calls(self.run.events)

    done_at: dict[int, float] = field(default_factory=dict)  # caller number -> when its task ended

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
    make_batcher: Callable[..., Any],
    arrivals: Arrivals,
    *,
    batch_size: int,
    max_wait: float,
    duration: float,
    end_at: float,
    failing: Iterable[Hashable] = (),
    ending: str = "close",
) -> BatcherRun:
    """Callers submit at their times; ``ending`` (close or abort) is called at ``end_at``.

    After close(), close() is called a second time, at once; after either, a late submit()."""
    record = BatcherRun(
        run=VirtualRun("hung", None, None, [], 0.0, DEADLINE),
        work=BatchWorkload(duration, failing),
        arrivals=list(arrivals),
        ending=ending,
        end_at=end_at,
    )

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        batcher = record.batcher = make_batcher(record.work, batch_size=batch_size, max_wait=max_wait)

        async def caller(at: float, item: Hashable) -> Any:
            await asyncio.sleep(at)
            return await traced_submit(batcher, item)

        record.tasks = [asyncio.create_task(caller(at, item), name=f"caller-{item}") for at, item in arrivals]
        for number, task in enumerate(record.tasks):
            task.add_done_callback(functools.partial(_note_done, record, number))
        await asyncio.sleep(end_at)
        end = asyncio.create_task(getattr(batcher, ending)(), name=ending)
        again = asyncio.create_task(_close_again(batcher, record), name="close-again") if ending == "close" else None
        await asyncio.wait({end}, timeout=GRACE)
        if end.done():
            record.ended_at = loop.time()
            record.end_error = asyncio.CancelledError() if end.cancelled() else end.exception()
            await sleep_until(max((at for at, _ in arrivals), default=0.0))
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

    record.run = run_virtual(scenario, deadline=DEADLINE)
    return record


def _note_done(record: BatcherRun, number: int, task: asyncio.Task[Any]) -> None:
    """A done callback: caller ``number``'s task ended now."""
    record.done_at.setdefault(number, task.get_loop().time())


async def _close_again(batcher: Any, record: BatcherRun) -> None:
    """close() a second time, just after the first, as leaving an ``async with`` block does (the
    given ``__aexit__`` calls close()): it must return, no earlier than the first."""
    await asyncio.sleep(0)
    record.again = "had not returned"
    try:
        if hasattr(batcher, "__aexit__"):
            await batcher.__aexit__(None, None, None)
        else:
            await batcher.close()
        record.again = ""
    except Exception as error:
        record.again = f"raised {describe_error(error)}"
    finally:
        record.again_at = asyncio.get_running_loop().time()


async def _late_submit(batcher: Any) -> str:
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


def _require_batcher_ran(chain: Chain, record: BatcherRun) -> None:
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


def _where(error: BaseException | None) -> str:
    """`` at line N of f()``: where ``error`` was raised (its innermost frame), if known."""
    where = learner_line(error) if error is not None else ""
    return f" {where}" if where else ""


def _raised_in(error: BaseException) -> str:
    """The name of the function in which ``error`` was raised (the innermost frame)."""
    frames = traceback.extract_tb(error.__traceback__)
    return frames[-1].name if frames else "a method"


def _require_ended(chain: Chain, record: BatcherRun) -> None:
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


def _require_no_futures_kept(chain: Chain, record: BatcherRun) -> None:
    """Once every caller has its outcome, ``self._waiting`` holds none of their futures."""
    kept = getattr(record.batcher, "_waiting", None)
    kept = [future for future in kept if isinstance(future, asyncio.Future)] if isinstance(kept, set) else []
    chain.require(
        not kept,
        "a caller's future leaves self._waiting whatever happens",
        observed=lambda: (
            f"once every caller had its outcome ({record.ended()}), self._waiting still held "
            f"{len(kept)} futures: " + ", ".join(sorted(_outcome(future) for future in kept)[:4])
        ),
        hint="remove the future in a `finally:` around `return await future`: a caller whose batch failed "
        "(or who gave up) leaves submit() by an exception, and skips a discard() placed after the await",
    )


@learner_facing
def check_batcher_flushes(
    make_batcher: Callable[..., Any],
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
    _require_batcher_ran(chain, record)
    handled = [item for _, items in record.calls for item in items]
    chain.require(
        sorted(handled, key=repr) == sorted((item for _, item in arrivals), key=repr),
        "the handler gets each item exactly once",
        observed=lambda: f"the handler was called with {_describe_calls(record)}",
        hint="STOP reached the handler: take it off the batch before you deliver the batch"
        if any(item is STOP for item in handled)
        else "put each submitted entry in the inbox once, and hand every batch you collect to the handler once",
    )
    expected = [batch for batch in expected_batches(arrivals, batch_size, max_wait) if batch.time < close_at]
    times = sorted(at for at, _ in arrivals)
    _require_batches_match(chain, record.calls, expected, times, batch_size, max_wait, verb="handed to the handler")


@learner_facing
def check_batcher_results(
    make_batcher: Callable[..., Any],
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
    _require_batcher_ran(chain, record)
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
    make_batcher: Callable[..., Any],
    *,
    arrivals: Arrivals = tuple((n / 10, n) for n in range(1, 10)) + ((2.0, 10), (2.1, 11), (2.2, 12)),
    batch_size: int = 3,
    max_wait: float = 0.5,
    duration: float = 0.5,
    failing: Iterable[Hashable] = (5,),
) -> None:
    """The handler raises ItemFailed for a batch holding a ``failing`` item (the items are distinct,
    so that each caller's batch is known): exactly that batch's
    callers get the error; the others, later callers too, get their results. Then no caller's
    future is left in ``self._waiting``."""
    chain = Chain("MicroBatcher")
    failing = frozenset(failing)
    close_at = max(at for at, _ in arrivals) + max_wait + duration + 1.0
    record = _run_batcher(
        make_batcher,
        arrivals,
        batch_size=batch_size,
        max_wait=max_wait,
        duration=duration,
        end_at=close_at,
        failing=failing,
    )
    _require_batcher_ran(chain, record)
    failed = [(time, items) for time, items in record.calls if failing & set(items)]
    in_failed = {item for _, items in failed for item in items}
    fail_times = ", ".join(f"t={time + duration:g} s" for time, _ in failed)
    for number, (_, item) in enumerate(record.arrivals):
        if item in in_failed:
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
    for number, (at, item) in enumerate(record.arrivals):
        if item not in in_failed:
            after = " (it arrived after the failure)" if failed and at > failed[0][0] + duration else ""
            _require_quietly(
                chain,
                record.error_of(number) is None
                and number not in record.waiting
                and not record.tasks[number].cancelled()
                and record.tasks[number].result() == Workload.expected(item),
                "a failing batch fails only its own callers",
                observed=f"{record.caller(number)}{after} {record.outcome(number)}, expected "
                f"{Workload.expected(item)!r}; the handler was called with "
                f"{_describe_calls(record)}; {record.ended()}",
                hint="one failing batch must not stop the batch loop or touch other batches: if a delivery task "
                "raises, the TaskGroup cancels the loop and every other delivery. Catch the error inside the "
                "delivery (deliver() never raises)",
            )
    chain.passed("a failing batch fails only its own callers")
    _require_ended(chain, record)
    _require_no_futures_kept(chain, record)


@learner_facing
def check_batcher_close(
    make_batcher: Callable[..., Any],
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
    _require_batcher_ran(chain, record)
    stream = iter(sorted(arrivals, key=lambda arrival: arrival[0]))  # the batches take the entries in this order
    open_at_close = [
        item
        for batch in expected_batches(arrivals, batch_size, max_wait)
        for at, item in [next(stream) for _ in batch.entries]
        if batch.first < close_at < batch.time and at < close_at
    ]
    if open_at_close:
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
    _require_ended(chain, record)
    chain.require(
        not record.waiting,
        "after close() returns, no caller is left waiting",
        observed=lambda: (
            f"{record.ended()}; then "
            + "; ".join(f"{record.caller(number)} was still waiting" for number in record.waiting)
        ),
        hint="close() must wait until every delivery has finished: await the batch loop, and let the loop "
        "return only after its deliveries (an `async with asyncio.TaskGroup()` around them does it)",
    )
    last = record.last_outcome_at
    chain.require(
        not record.again and record.again_at is not None and record.again_at >= last - 1e-9,
        "close() called twice returns, both times once no caller is waiting",
        observed=lambda: (
            f"close() was called at t={close_at:g} s and again at once (leaving `async with`): the second "
            + (record.again or f"returned at t={record.again_at:g} s, the last caller got its outcome at t={last:g} s")
        ),
        hint="a second close() must not put STOP or set the flag again, but it must still await the batch-loop "
        "task (awaiting a task that has ended returns at once): `if self._closed: return` returns too early",
    )
    chain.require(
        not record.late_submit,
        "submit() after close() raises RuntimeError",
        observed=f"after close() returned, submit('late') {record.late_submit}",
        hint="close() sets a flag; submit() checks it first and raises RuntimeError, so nobody waits on a "
        "batcher that has stopped",
    )
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
    _require_batcher_ran(chain, aborted)
    _require_ended(chain, aborted)
    running = [
        items
        for time, items in aborted.calls
        if time <= abort_at + 1e-9 and time + duration > abort_at + 1e-9 and duration > 0
    ]
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
    late = [number for number in aborted.waiting if aborted.arrivals[number][0] > abort_at]
    chain.require(
        not aborted.waiting,
        "after abort() returns, no caller is left waiting",
        observed=lambda: (
            f"{aborted.ended()}; then "
            + "; ".join(f"{aborted.caller(number)} was still waiting" for number in aborted.waiting)
        ),
        hint="this caller called submit() after abort(): abort() sets self._closed, and submit() checks it first "
        "and raises RuntimeError"
        if late and len(late) == len(aborted.waiting)
        else "abort() cancels the batch loop, but entries still in the inbox or in the batch being collected "
        "have no delivery to cancel them: cancel every future in self._waiting"
        if not {aborted.arrivals[number][1] for number in aborted.waiting} & {i for items in running for i in items}
        else "the deliveries running at abort() must end too: start them in the batch loop's TaskGroup (cancelling "
        "the loop cancels them), and let deliver() cancel its futures when it is cancelled",
    )
    chain.require(
        not aborted.late_submit,
        "submit() after abort() raises RuntimeError",
        observed=f"after abort() returned, submit('late') {aborted.late_submit}",
        hint="abort() sets self._closed too: submit() checks it first and raises RuntimeError, so nobody waits "
        "on a batch loop that was cancelled",
    )
    chain.require_no_leftover_tasks(aborted.run, "abort()")


@learner_facing
def check_batcher_slow_handler(
    make_batcher: Callable[..., Any],
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
    _require_batcher_ran(chain, record)
    expected = expected_batches(arrivals, batch_size, max_wait)
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
    failing: Hashable | None = 8,
) -> None:
    """Chunks of ``items``; the chunk holding a ``slow`` item takes ``slow_time`` s, others ``time``.

    Then again with ``failing`` making its chunk's call raise (unless it is None)."""
    chain = Chain("process_in_chunks")
    chain.require_async_function(process_in_chunks, "process_in_chunks")
    items = list(items)
    chunks = [items[start : start + chunk_size] for start in range(0, len(items), chunk_size)]
    duration = _chunk_duration(slow, slow_time, time)
    work = BatchWorkload(duration)
    run = run_virtual(
        lambda: process_in_chunks(list(items), work, chunk_size=chunk_size, concurrency=concurrency), deadline=DEADLINE
    )
    if run.outcome == "raised" and not isinstance(run.error, NotImplementedError):
        chain.fail(
            "process_in_chunks runs without raising",
            observed=f"raised {describe_error(run.error)}{_where(run.error)}"
            + (f" after the handler was called with {', '.join(map(repr, work.batches))}" if work.batches else ""),
            hint="with no items there is no chunk: return [] without calling the handler (asyncio.wait() "
            "and a worker count of min(concurrency, len(chunks)) both need care with zero chunks)"
            if not items
            else "no call failed in this run: the error comes from your own code. Run the scenario line above "
            "in a cell of its own and read the traceback",
        )
    chain.require_finished(run, "process_in_chunks")
    chain.require(
        sorted(work.batches, key=repr) == sorted(chunks, key=repr),
        f"the handler gets consecutive chunks of {chunk_size} item{'s' if chunk_size != 1 else ''}, each once",
        observed=lambda: (
            f"the handler was called with {', '.join(map(repr, work.batches)) or 'nothing'}; "
            f"the chunks are {', '.join(map(repr, chunks)) or 'none'}"
        ),
        hint="cut the items as items[i:i + chunk_size] for i in range(0, len(items), chunk_size): the last "
        "chunk may be shorter, and each chunk goes to exactly one call",
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
    idle = idle_slots(run.events, len(chunks), concurrency)
    chain.require(
        idle is None,
        "a new chunk starts as soon as a call finishes",
        observed=lambda: _describe_idle(idle, concurrency),
        hint="do not run the chunks in waves of `concurrency` (each wave waits for its slowest call, "
        "as in document 004) nor one after another: let each free worker take the next chunk at once",
    )
    if failing is not None:
        _check_chunk_failure(chain, process_in_chunks, items, chunk_size, concurrency, duration, failing)


def _describe_idle(idle: tuple[float, int, int] | None, concurrency: int) -> str:
    if idle is None:
        return ""
    at, running, waiting = idle
    return (
        f"at t={at:g} s only {running} call{'s' if running != 1 else ''} ran (the limit is {concurrency}) "
        f"while {waiting} chunk{'s' if waiting != 1 else ''} had not started"
    )


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
    "check_batcher_close",
    "check_batcher_failures",
    "check_batcher_flushes",
    "check_batcher_results",
    "check_batcher_slow_handler",
    "check_process_in_chunks",
    "expected_batches",
    "greedy_makespan",
]
