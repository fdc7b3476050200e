"""Chapter 8 probes: random request plans through TokenBucket, SlidingLogLimiter and PerClientLimiter.

Every plan runs on the virtual clock from ``start``; times are seconds after ``start``. Rates are
powers of two and every arrival is a multiple of 1/64 s, so each instant the statement gives (a
waiter passes when its tokens have accrued, or when the oldest admission leaves the window) is exact
in binary and on the virtual clock's microseconds: the statements fix every one of them (first come,
first served, no polling), so they are observed as they are.

At one instant, which of two things goes first is the event loop's business, not the statement's, so
a plan puts nothing at an instant where the order could change a correct answer: cancellations (and
some questions) come between two ticks, at odd multiples of 1/128 s; a request arriving when a waiter
is due queues behind it whatever the order; a question comes when slots free up only if there are as
many waiters as slots, or more (False in any order), or none (True).
"""

from __future__ import annotations

import asyncio
import functools
import math
import random
from collections.abc import Callable, Mapping
from typing import Any

from coursekit.chapters.rate_limiting.given import Decision, bursty_arrivals, timed_acquire
from coursekit.probing import Probe, outcome
from coursekit.scenario import sleep_until
from coursekit.virtual_time import run_virtual

TICK = 1 / 64  # arrivals are multiples of it
OFF = 1 / 128  # cancellations and some questions come at an odd multiple of it: between two ticks


def _start(rng: random.Random) -> float:
    return rng.choice([0.0, rng.randrange(1, 64 * 100) * TICK])


def _rate(rng: random.Random) -> float:
    return 2.0 ** rng.randint(-2, 5)


def _ticks(rng: random.Random, low: float, high: float) -> float:
    """A multiple of 1/64 s in [low, high]."""
    return rng.randint(round(low / TICK), round(high / TICK)) * TICK


def _between(rng: random.Random, low: float, high: float) -> float:
    """An instant strictly between two ticks, in (low, high)."""
    return (2 * rng.randint(round(low / TICK), round(high / TICK) - 1) + 1) * OFF


def _cancels(rng: random.Random, requests: list[list[Any]], waiters: dict[int, float]) -> list[list[Any]]:
    """Some of ``waiters`` (request number: about when it passes), each cancelled at an instant of its own
    between two ticks, after it arrived: mostly before it passes, now and then later."""
    cancels: dict[float, int] = {}
    for number in rng.sample(sorted(waiters), rng.randint(1, min(3, len(waiters)))):
        arrival = requests[number][0]
        until = arrival + (waiters[number] - arrival) * rng.choice([1, 1, 1, 3])
        cancels.setdefault(_between(rng, arrival, max(until, arrival + TICK)), number)
    return sorted([number, when] for when, number in cancels.items())


# ----------------------------------------------------------------------------- playing plans


def _seen(task: asyncio.Future[Any], start: float) -> Any:
    """One request as observed: when it passed (or what it returned, for a question), what it raised
    and when, or that it ended cancelled."""
    if task.cancelled():
        return ["cancelled"]
    timed = task.result()
    if timed.error is not None:
        return ["raised", type(timed.error).__name__, timed.ended - start]
    if timed.amount == 0:  # a question (try_acquire(), amount 0): its answer, and how long it took
        answer = timed.value if isinstance(timed.value, bool) else f"a {type(timed.value).__name__}"
        return ["answered", answer, timed.ended - timed.asked]
    return ["passed", timed.ended - start]


def _play(scenario: dict[str, Any], requests: list[Callable[[], Any]], amounts: list[int]) -> Any:
    """What each of ``requests`` did. A task per instant of the plan (made at the start, so that its
    timer comes before those the limiter sets later) starts that instant's requests in order, each in
    a task of its own, and cancels those due; an instant of questions only (amount 0) asks them itself,
    one after the other, in the step the clock wakes it: before any waiter that a waiter wakes then."""
    start = scenario["start"]
    arrivals = [at for at, *_ in scenario["requests"]]
    instants: dict[float, list[tuple[str, int]]] = {}
    for number, at in enumerate(arrivals):
        instants.setdefault(at, []).append(("start", number))
    for number, at in scenario.get("cancels", []):
        instants.setdefault(at, []).append(("cancel", number))

    async def main() -> list[Any]:
        loop = asyncio.get_running_loop()
        started: dict[int, asyncio.Future[Any]] = {}

        async def instant(at: float, actions: list[tuple[str, int]]) -> None:
            await asyncio.sleep(start + at - loop.time())
            asks = all(what == "start" and not amounts[number] for what, number in actions)
            for what, number in actions:
                if what == "cancel":
                    started[number].cancel()
                elif asks:
                    started[number] = loop.create_future()
                    started[number].set_result(await timed_acquire(requests[number], number, 0))
                else:
                    started[number] = asyncio.create_task(timed_acquire(requests[number], number, amounts[number]))

        await asyncio.gather(*(instant(at, actions) for at, actions in sorted(instants.items())))
        await asyncio.wait(started.values())
        return [_seen(started[number], start) for number in range(len(arrivals))]

    deadline = start + max(arrivals, default=0.0) + scenario.get("span", 0.0) + 60
    return outcome(run_virtual(main, deadline=deadline, wall_limit=2.0))


# ----------------------------------------------------------------------------- TokenBucket


def _bucket(rng: random.Random, capacity: int, requests: list[list[Any]], **more: Any) -> dict[str, Any]:
    rate = more.pop("rate", _rate(rng))
    span = sum(min(amount, capacity) for _, amount in requests) / rate
    return {"rate": rate, "capacity": capacity, "start": _start(rng), "requests": requests, "span": span, **more}


def observe_bucket(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """Each request ``acquire(amount)`` of the plan through one ``TokenBucket(rate, capacity)``: when it
    passed, or what it raised and when, or that it ended cancelled."""
    bucket = names["TokenBucket"](rate=scenario["rate"], capacity=scenario["capacity"])
    amounts = [amount for _, amount in scenario["requests"]]
    return _play(scenario, [functools.partial(bucket.acquire, amount) for amount in amounts], amounts)


def draw_burst(rng: random.Random) -> dict[str, Any]:
    """From idle, ``capacity + extra`` requests of one token at one instant."""
    capacity = rng.randint(1, 10)
    return _bucket(rng, capacity, [[0.0, 1]] * (capacity + rng.choice([0, rng.randint(1, 8)])))


def draw_rate(rng: random.Random) -> dict[str, Any]:
    """Bursts of requests of one token separated by quiet spells (some long enough to refill the bucket),
    then, after a quiet spell long enough to refill it four times over, ``capacity + 2`` at once."""
    capacity, rate = rng.randint(1, 6), _rate(rng)
    arrivals = bursty_arrivals(rng.randrange(10_000), bursts=rng.randint(1, 2), size=(1, 6), quiet=(0.25, 4.0))
    idle = _ticks(rng, 0, 3) + (len(arrivals) + 4 * capacity) / rate
    requests = [[at, 1] for at in arrivals] + [[max(arrivals) + idle, 1]] * (capacity + 2)
    return _bucket(rng, capacity, requests, rate=rate)


def draw_amounts(rng: random.Random) -> dict[str, Any]:
    """Requests of random amounts, some more than ``capacity`` (ValueError at once), at a few instants: from
    the start, and later ones before the bucket could have filled up again (``rate * t`` tokens accrued by
    then, at most the tokens asked for before: how the bucket is capped is the rate cell's business)."""
    capacity, rate = rng.randint(1, 6), _rate(rng)
    requests: list[list[Any]] = []
    at, asked = 0.0, 0  # the instant, the tokens asked for before it
    for _ in range(rng.randint(1, 3)):
        amounts = [rng.randint(1, capacity + 2) for _ in range(rng.randint(1, 4))]
        requests += [[at, amount] for amount in amounts]
        asked += sum(amount for amount in amounts if amount <= capacity)
        at = rng.randint(math.ceil(at / TICK), max(math.ceil(at / TICK), math.floor(asked / rate / TICK))) * TICK
    return _bucket(rng, capacity, requests, rate=rate)


def draw_fifo(rng: random.Random) -> dict[str, Any]:
    """A big request that empties the bucket, a big one that waits, then small and big ones arriving
    while it waits, some at instants when the small ones' tokens are there but the head's are not."""
    capacity, rate = rng.randint(2, 8), _rate(rng)
    requests = [[0.0, capacity], [TICK, rng.randint(2, capacity)]]
    for _ in range(rng.randint(2, 7)):
        requests.append([requests[-1][0] + _ticks(rng, 0, 2 / rate), rng.choice([1, 1, rng.randint(1, capacity)])])
    return _bucket(rng, capacity, requests, rate=rate)


def draw_cancel(rng: random.Random) -> dict[str, Any]:
    """``capacity`` requests pass, waiters queue behind them; some waiters (the head among them, now and
    then) are cancelled while they wait, or after they passed."""
    capacity, rate = rng.randint(1, 4), _rate(rng)
    requests = [[0.0, 1]] * capacity
    for _ in range(rng.randint(3, 6)):
        requests.append([_ticks(rng, 0, 1 / rate), rng.randint(1, capacity)])
    requests.sort(key=lambda request: request[0])
    ahead = [sum(amount for _, amount in requests[: number + 1]) - capacity for number in range(len(requests))]
    cancels = _cancels(rng, requests, {number: ahead[number] / rate for number in range(capacity, len(requests))})
    return _bucket(rng, capacity, requests, rate=rate, cancels=cancels)


# ----------------------------------------------------------------------------- SlidingLogLimiter


def _window(rng: random.Random) -> float:
    return rng.randint(8, 192) * TICK


def observe_log(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """Each request of the plan through one ``SlidingLogLimiter(limit, window)``: for ``acquire()``,
    when it passed, or that it ended cancelled; for ``try_acquire()``, its answer and how long it took."""
    limiter = names["SlidingLogLimiter"](limit=scenario["limit"], window=scenario["window"])
    calls = {"acquire": limiter.acquire, "try": limiter.try_acquire}
    kinds = [kind for _, kind in scenario["requests"]]
    return _play(scenario, [calls[kind] for kind in kinds], [int(kind == "acquire") for kind in kinds])


def _log(rng: random.Random, limit: int, window: float, requests: list[list[Any]], **more: Any) -> dict[str, Any]:
    span = len(requests) * window
    return {"limit": limit, "window": window, "start": _start(rng), "requests": requests, "span": span, **more}


def draw_log_limit(rng: random.Random) -> dict[str, Any]:
    """Requests that wait: one, then a burst just before the end of its window (where a fixed window would
    let twice the limit through), or bursts separated by quiet spells."""
    limit, window = rng.randint(1, 5), _window(rng)
    if rng.random() < 1 / 2:
        late = window - _ticks(rng, TICK, window / 2)
        arrivals = [0.0] + [late] * rng.randint(1, 3 * limit)
    else:
        arrivals = bursty_arrivals(rng.randrange(10_000), bursts=rng.randint(1, 3), size=(1, 10), quiet=(0.25, 2.0))
    return _log(rng, limit, window, [[at, "acquire"] for at in arrivals])


def draw_log_waiting(rng: random.Random) -> dict[str, Any]:
    """Requests that wait, at one or a few instants, some cancelled while they wait (or after they passed);
    last, once every one has passed and left the window, a ``try_acquire()``: nobody waits (a cancelled
    waiter included), so it answers True at once."""
    limit, window = rng.randint(1, 4), _window(rng)
    arrivals = sorted(rng.choice([0.0, _ticks(rng, 0, window)]) for _ in range(limit + rng.randint(2, 6)))
    requests = [[at, "acquire"] for at in arrivals]
    passes = {number: (number // limit) * window for number in range(limit, len(arrivals))}
    cancels = _cancels(rng, requests, passes)
    quiet = arrivals[-1] + (len(arrivals) // limit + 2) * window  # the last admission has left the window
    return _log(rng, limit, window, [*requests, [quiet, "try"]], cancels=cancels)


def draw_log_try(rng: random.Random) -> dict[str, Any]:
    """Questions alone: ``limit + extra`` at one instant, one just before the window has passed, then,
    from when it has, groups of questions at instants of their own until the window is full again. Then
    waiters, and questions while they wait: between ticks, and at instants when a group's slots free up
    (as many waiters as slots, or more: a limiter that forgets the waiters says True there whatever the
    order; or none left). Last, a question once nobody waits and the window is empty."""
    limit, window = rng.randint(1, 5), rng.randint(32, 192) * TICK
    requests = [[0.0, "try"]] * (limit + rng.randint(1, 3)) + [[window - _ticks(rng, TICK, window / 2), "try"]]
    groups: list[tuple[float, int]] = []  # (instant, questions admitted then): the log, refilled
    at = window
    while sum(size for _, size in groups) < limit:
        groups.append((at, rng.randint(1, limit - sum(size for _, size in groups))))
        requests += [[at, "try"]] * groups[-1][1]
        at += _ticks(rng, TICK, window / (4 * limit))
    waiters = rng.choice([limit, rng.randint(1, limit)])
    arrives = _ticks(rng, at, window * 3 / 2)
    requests += [[arrives, "acquire"]] * waiters
    frees, waiting = [], waiters  # instants when slots free up and the waiters left then, or none
    for when, size in groups:
        if waiting >= size or waiting <= 0:
            frees.append(when + window)
        if waiting > 0:
            passes = when + window  # the last waiter so far passes then
        waiting -= size
    questions = [_between(rng, arrives, passes) for _ in range(rng.randint(1, 2))]
    questions += [*frees, groups[-1][0] + 2 * window]
    requests += [[when, "try"] for when in questions]
    return _log(rng, limit, window, sorted(requests, key=lambda request: request[0]))


# ----------------------------------------------------------------------------- PerClientLimiter


def _per_client(rng: random.Random, calls: list[list[Any]], capacity: int, rate: float) -> dict[str, Any]:
    idle_after = capacity / rate * rng.choice([1, 1.5, 2, 4])
    return {"rate": rate, "capacity": capacity, "idle_after": idle_after, "start": _start(rng), "calls": calls}


def _decision(limiter: Any, client: str, amount: int) -> Any:
    try:
        decision = limiter.try_acquire(client, amount) if amount != 1 else limiter.try_acquire(client)
    except Exception as error:  # noqa: BLE001  (observed)
        return ["raised", type(error).__name__]
    if isinstance(decision, Decision):
        return [decision.admitted, decision.retry_after]
    return f"a {type(decision).__name__}, not a Decision"


def _size(limiter: Any) -> Any:
    try:
        size = len(limiter)
    except Exception as error:  # noqa: BLE001  (observed)
        return f"len() raised {type(error).__name__}"
    return size


def observe_per_client(names: Mapping[str, Any], scenario: dict[str, Any], *, sizes: bool = False) -> Any:
    """Each call ``try_acquire(client, amount)`` of the plan on one ``PerClientLimiter(rate, capacity,
    idle_after)``, at its instant: the decision (admitted, retry_after) or the error; with ``sizes``,
    ``len(limiter)`` after each call too."""
    start = scenario["start"]

    async def main() -> Any:
        limiter = names["PerClientLimiter"](
            rate=scenario["rate"], capacity=scenario["capacity"], idle_after=scenario["idle_after"]
        )
        decisions, lengths = [], []
        for at, client, amount in scenario["calls"]:
            await sleep_until(start + at)
            decisions.append(_decision(limiter, client, amount))
            if sizes:
                lengths.append(_size(limiter))
        return {"decisions": decisions, "sizes": lengths} if sizes else decisions

    return outcome(run_virtual(main, deadline=start + scenario["calls"][-1][0] + 60, wall_limit=2.0))


def draw_per_client_limits(rng: random.Random) -> dict[str, Any]:
    """A few clients asking for random amounts (some more than ``capacity``), in bursts and after quiet
    spells, some longer than ``idle_after``."""
    capacity, rate = rng.randint(1, 10), _rate(rng)
    clients = [f"c{n}" for n in range(1, rng.randint(1, 5) + 1)]
    calls, now = [], 0.0
    for _ in range(rng.randint(2, 6)):
        now += rng.choice([0.0, _ticks(rng, 0, 2 / rate), _ticks(rng, 0, 5 * capacity / rate)])
        calls += [
            [now, rng.choice(clients), rng.choice([1, 1, rng.randint(1, capacity + 1)])]
            for _ in range(rng.randint(1, capacity + 3))
        ]
    return _per_client(rng, calls, capacity, rate)


def observe_per_client_limits(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """The decisions (admitted, retry_after) or errors, call by call."""
    return observe_per_client(names, scenario)


def draw_per_client_memory(rng: random.Random) -> dict[str, Any]:
    """At a few instants over up to four times ``idle_after``, batches of new clients ask once each, and
    "heavy" asks; "back" empties its bucket at the start and comes back twice before it is full again,
    after up to 160 new clients, asking ``capacity`` times each time (a bucket forgotten too early would
    let it through)."""
    capacity, rate = rng.randint(2, 8), _rate(rng)
    scenario = _per_client(rng, [], capacity, rate)
    full, idle_after = capacity / rate, scenario["idle_after"]
    back = _ticks(rng, full / 4, full * 3 / 4)
    again = back + _ticks(rng, TICK, full / 4)
    later = [_ticks(rng, again + TICK, 4 * idle_after) for _ in range(rng.randint(3, 7))]
    calls: list[list[Any]] = []
    for number, at in enumerate(sorted({0.0, back, again, *later})):
        new = rng.randint(100, 160) if at == back else rng.randint(1, 30)
        calls += [[at, f"id-{number}-{k}", 1] for k in range(new)] + [[at, "heavy", 1]]
        calls += [[at, "back", 1]] * (capacity if at in (0.0, back, again) else 0)
    return {**scenario, "calls": calls}


def observe_per_client_memory(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """The decisions, and ``len(limiter)`` after each call."""
    return observe_per_client(names, scenario, sizes=True)


def _recent(calls: list[list[Any]], span: float) -> list[int]:
    """After each call, how many distinct clients called less than ``span`` seconds before it."""
    counts: dict[str, int] = {}
    found, left = [], 0
    for now, client, _ in calls:
        counts[client] = counts.get(client, 0) + 1
        while calls[left][0] <= now - span:
            gone = calls[left][1]
            counts[gone] -= 1
            if not counts[gone]:
                del counts[gone]
            left += 1
        found.append(len(counts))
    return found


def judge_per_client_memory(scenario: dict[str, Any], observed: Any, expected: Any) -> str | None:
    """The decisions must be the reference's; ``len(limiter)`` after each call may be any number from
    the clients that called less than ``capacity / rate`` s before (they may not be forgotten) to the
    clients that called in the last ``2 * idle_after`` s (the statement's bound)."""
    seen = observed.get("returned") if isinstance(observed, dict) else None
    if not isinstance(seen, dict) or seen.get("decisions") != expected["returned"]["decisions"]:
        return "the decisions (admitted, retry_after) are not the statement's"
    calls, sizes = scenario["calls"], seen.get("sizes")
    if not isinstance(sizes, list) or len(sizes) != len(calls):
        return "len(limiter) was not read after every call"
    full, forget = scenario["capacity"] / scenario["rate"], 2 * scenario["idle_after"]
    for (now, client, _), size, least, most in zip(
        calls, sizes, _recent(calls, full), _recent(calls, forget), strict=True
    ):
        if not isinstance(size, int) or not least <= size <= most:
            return (
                f"at t={now:g} after try_acquire({client!r}), len(limiter) was {size}, not between {least} (the "
                f"clients of the last capacity / rate = {full:g} s) and {most} (of the last 2 * idle_after = "
                f"{forget:g} s)"
            )
    return None


PROBES = {
    "ch08-ex1-burst": Probe(draw_burst, observe_bucket),
    "ch08-ex1-rate": Probe(draw_rate, observe_bucket),
    "ch08-ex1-amounts": Probe(draw_amounts, observe_bucket),
    "ch08-ex1-fifo": Probe(draw_fifo, observe_bucket),
    "ch08-ex1-cancel": Probe(draw_cancel, observe_bucket),
    "ch08-ex2-limit": Probe(draw_log_limit, observe_log),
    "ch08-ex2-waiting": Probe(draw_log_waiting, observe_log),
    "ch08-ex2-try": Probe(draw_log_try, observe_log),
    "ch08-ex3-limits": Probe(draw_per_client_limits, observe_per_client_limits),
    "ch08-ex3-memory": Probe(draw_per_client_memory, observe_per_client_memory, judge=judge_per_client_memory),
}
