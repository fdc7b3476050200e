"""Chapter 7 probes: random call plans through CircuitBreaker; protected and fetch_item with a spy breaker.

A breaker scenario is a plan of *waves*: at ``start + at`` (virtual clock), the wave's calls start
together, in order, each in its own task, through one ``CircuitBreaker(**settings)``. Each call
awaits the upstream ``service(number, n, scale=scale)``, which takes ``takes`` seconds and then
returns ``n * scale`` or raises ServiceDown (counted; so is UpstreamError, where both are) or
NotCounted. In a *sequential* plan each call ends before the next wave starts. A call may have its
caller's task cancelled part-way through (``cancel``: an odd multiple of 1/128 s after its wave starts,
so never when anything else happens).

All times are multiples of 1/64 s (exact in binary and on the virtual clock's microseconds). No two
calls of a plan that take time end at the same instant, nor when a wave starts: which of two things
happens first at one instant is the event loop's business, not the statement's.

What is observed (only what the statement fixes): for each call, whether the service was called,
what its caller got (the service's own error, or another one), and when; in a sequential plan, the
breaker's state after each call; the transitions to open and to closed, with their times, and the
names the events carry. Of a cancelled call, whether its task ended cancelled (and whether the service
was called); what the cancellation did to the breaker shows in the calls after it, only where the
statement fixes it: it is no failure, and a cancelled trial frees its slot (whether it counts as a
success, or resets the count of failures, is left open). Moves to half open are left out: a breaker
may move when a call arrives or by a timer of its own at the deadline (tests/correct_alternatives has
both), and what half open does shows in the calls and in the transition that ends it. For the same
reason the state is read only in sequential plans, where no call is in flight when the deadline passes;
in the others, only whether it is closed (no timer moves a breaker to or from closed).

Each cell's probe observes only what that cell's checks examine, so that a bug another cell grades
does not cost its points twice: only the trips probe passes the service arguments through
``breaker.call`` (the others give it a function of no arguments, as their checks do) and reads the
events' names; a probe whose checks only ask that a call made fails sees "an error" there, whatever
error (``loose``), and the calls that merely open the breaker at the start of a plan (``setup``) are
observed that way in every probe but the trips one.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from coursekit.chapters.circuit_breaker.analysis import breaker_transitions
from coursekit.chapters.circuit_breaker.checks import Answering, NotCounted, ServiceDown, SpyBreaker
from coursekit.chapters.circuit_breaker.given import BreakerState, CircuitOpenError, UpstreamError
from coursekit.events import Kind
from coursekit.probing import Probe, outcome
from coursekit.scenario import sleep_until
from coursekit.service import Faults, Latency, RateLimit, Service
from coursekit.virtual_time import run_virtual

TICK = 1 / 64  # every time of a plan is a multiple of it
OFF_TICK = TICK / 2  # a caller is cancelled an odd number of these after its call began: never when a thing happens
COUNTED: dict[str, tuple[type[Exception], ...]] = {
    "ServiceDown": (ServiceDown,),
    "Exception": (Exception,),
    "UpstreamError ServiceDown": (UpstreamError, ServiceDown),
    "ServiceDown UpstreamError": (ServiceDown, UpstreamError),
}
ERRORS: dict[str, Callable[[str], Exception]] = {
    "down": ServiceDown,
    "upstream": lambda message: UpstreamError(503, "/items/1"),
    "other": NotCounted,
}


# ----------------------------------------------------------------------------- drawing plans


def _start(rng: random.Random) -> float:
    return rng.choice([0.0, rng.randrange(1, 64 * 200) * TICK])


def _quarters(rng: random.Random, low: float, high: float) -> float:
    """A multiple of 1/4 s in [low, high]."""
    return rng.randint(round(low * 4), round(high * 4)) / 4


class Plan:
    """Waves of calls being drawn; ``now`` is when the last call drawn ends (if it is made)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.waves: list[dict[str, Any]] = []
        self.now = 0.0

    def takes(self, low: float, high: float) -> float:
        """A duration: quarters of a second plus a few 1/64 s, so that calls end at distinct instants."""
        return _quarters(self.rng, low, high) + self.rng.randint(1, 15) * TICK

    def wave(self, at: float, *calls: tuple[str, float]) -> list[float]:
        """Calls ``(does, takes)`` starting together at ``at``; when each ends if it is made."""
        specs = [
            {"does": does, "takes": takes, "n": self.rng.randint(1, 99), "scale": self.rng.randint(1, 9)}
            for does, takes in calls
        ]
        self.waves.append({"at": at, "calls": specs})
        ends = [at + takes for _, takes in calls]
        self.now = max([self.now, *ends])
        return ends

    def then(self, does: str, takes: float = 0.0, gap: float = 0.0) -> float:
        """One call ``gap`` seconds after the last one ended; when it ends."""
        return self.wave(self.now + gap, (does, takes))[0]

    def untied(self) -> bool:
        ends = [wave["at"] + call["takes"] for wave in self.waves for call in wave["calls"] if call["takes"]]
        return len(set(ends)) == len(ends) and not set(ends) & {wave["at"] for wave in self.waves}


def _part_way(rng: random.Random, takes: float) -> float:
    """When to cancel the caller of a call that takes ``takes`` s (a multiple of :data:`TICK`, not 0), from
    its start: an odd number of :data:`OFF_TICK`, before it ends."""
    return (2 * rng.randrange(round(takes / TICK)) + 1) * OFF_TICK


def _cancel_part_way(rng: random.Random, call: dict[str, Any]) -> float:
    """Mark a call of a plan (one that takes time) as cancelled part-way through (:func:`_part_way`): its
    caller's task is cancelled ``cancel`` s after its wave starts. Returns that offset."""
    call["cancel"] = _part_way(rng, call["takes"])
    return float(call["cancel"])


def _drawn(build: Callable[[Plan], dict[str, Any]]) -> Callable[[random.Random], dict[str, Any]]:
    """A draw: ``build`` fills a plan and returns the settings; a plan whose calls overlap is drawn again
    until no two instants tie (in a sequential plan, one call at a time, nothing can tie)."""

    def draw(rng: random.Random) -> dict[str, Any]:
        while True:
            plan = Plan(rng)
            scenario = build(plan)
            if scenario["sequential"] or plan.untied():
                return {"start": _start(rng), "waves": plan.waves, **scenario}

    return draw


def _name(rng: random.Random) -> dict[str, str]:
    return rng.choice([{}, {"name": f"{rng.choice(['items', 'users', 'prices'])}-{rng.randint(1, 99)}"}])


def _failures_then_trip(plan: Plan, threshold: int, does: list[str], failures: tuple[str, ...] = ("down",)) -> float:
    """Runs of fewer than ``threshold`` failures (each one of ``failures``), each ended by one of ``does``,
    then ``threshold`` failures in a row: when the last one ends (the breaker opens then)."""
    rng = plan.rng
    for _ in range(rng.randint(0, 3)):
        for _ in range(rng.randint(0, threshold - 1)):
            plan.then(rng.choice(failures), rng.choice([0.0, plan.takes(0, 1)]), gap=_quarters(rng, 0, 1.5))
        plan.then(rng.choice(does), rng.choice([0.0, plan.takes(0, 1)]), gap=_quarters(rng, 0, 1.5))
    for _ in range(threshold):
        opened = plan.then(rng.choice(failures), rng.choice([0.0, plan.takes(0, 1)]), gap=_quarters(rng, 0, 1.5))
    return opened


def _opened_at_once(plan: Plan, threshold: int) -> float:
    """``threshold`` failures in a row at one instant, as the checks open a breaker: the first failure and
    the one that opens the breaker come at the same time (from which the timer runs, the open cell grades);
    when they end."""
    opened = plan.then("down", gap=_quarters(plan.rng, 0, 1.5))
    for _ in range(threshold - 1):
        opened = plan.then("down")
    return opened


def _near(rng: random.Random, when: float) -> list[float]:
    """Instants before ``when``, and ``when`` itself or just after it."""
    eps = _quarters(rng, 0.25, 1)
    return [when - eps, when + rng.choice([0.0, 0.0, eps])]


# ----------------------------------------------------------------------------- observing plans


def _state(breaker: Any) -> str:
    state = getattr(breaker, "state", None)
    return state.value if isinstance(state, BreakerState) else f"a {type(state).__name__}, not a BreakerState"


def _play(
    names: Mapping[str, Any],
    scenario: dict[str, Any],
    *,
    transitions: bool,
    arguments: bool = False,
    loose: bool = False,
    event_names: bool = False,
    states: bool | str = True,
) -> Any:
    """The plan's calls through the learner's CircuitBreaker; the transitions too if asked.

    ``arguments``: ``breaker.call(service, number, n, scale=scale)``; else ``breaker.call(f)`` with ``f`` a
    function of no arguments that makes that call. ``loose``: a call made that raised is observed as "an
    error", whatever it raised (so is each of the plan's first ``scenario["setup"]`` calls, always). In a
    plan that is not sequential, the state is observed as whether it is closed (``closed``) after each
    call if ``states`` (after the last call only if it is "last"): no timer moves a breaker to or from
    closed. A call with ``cancel`` has its caller's task cancelled that many seconds after its wave starts:
    observed as "cancelled" if the task ended cancelled (and whether the service was called), else as any
    other call."""
    start = scenario["start"]
    setup = scenario.get("setup", 0)
    calls = [call for wave in scenario["waves"] for call in wave["calls"]]
    made: set[int] = set()
    raised: dict[int, BaseException] = {}

    async def service(number: int, n: int, *, scale: int) -> int:
        made.add(number)
        if calls[number]["takes"]:
            await asyncio.sleep(calls[number]["takes"])
        if calls[number]["does"] == "ok":
            return n * scale
        raised[number] = ERRORS[calls[number]["does"]](f"call {number} failed")
        raise raised[number]

    async def one(breaker: Any, number: int) -> dict[str, Any]:
        call = calls[number]

        async def without_arguments() -> int:
            return await service(number, call["n"], scale=call["scale"])

        try:
            if arguments:
                answer: Any = await breaker.call(service, number, call["n"], scale=call["scale"])
            else:
                answer = await breaker.call(without_arguments)
        except Exception as error:  # noqa: BLE001  (observed)
            if (loose or number < setup) and number in made:
                answer = "an error"
            elif isinstance(error, CircuitOpenError):
                answer = "CircuitOpenError"
            else:
                answer = f"{'its' if error is raised.get(number) else 'another'} {type(error).__name__}"
        seen = {"made": number in made, "got": answer, "ended": asyncio.get_running_loop().time() - start}
        if not states or (states == "last" and number < len(calls) - 1):
            return seen
        if scenario["sequential"]:
            return {**seen, "state": _state(breaker)}
        return {**seen, "closed": _state(breaker) == "closed"}

    async def main() -> list[dict[str, Any]]:
        settings = dict(scenario["settings"])
        if "counted" in settings:
            settings["counted"] = COUNTED[settings["counted"]]
        breaker = names["CircuitBreaker"](**settings)
        loop = asyncio.get_running_loop()
        tasks: list[asyncio.Task[dict[str, Any]]] = []
        for wave in scenario["waves"]:
            await sleep_until(start + wave["at"])
            for call in wave["calls"]:
                tasks.append(asyncio.create_task(one(breaker, len(tasks))))
                if "cancel" in call:
                    loop.call_at(start + wave["at"] + call["cancel"], tasks[-1].cancel)
                if scenario["sequential"]:
                    await asyncio.wait({tasks[-1]})
        await asyncio.wait(tasks)
        return [
            {"made": number in made, "got": "cancelled"} if task.cancelled() else task.result()
            for number, task in enumerate(tasks)
        ]

    last = max(wave["at"] + max(call["takes"] for call in wave["calls"]) for wave in scenario["waves"])
    run = run_virtual(main, deadline=start + last + 60, wall_limit=2.0)
    observed = outcome(run)
    if transitions:
        moves = breaker_transitions(run.events)
        observed["transitions"] = [[old, new, time - start] for time, old, new in moves if new != "half_open"]
        if event_names:
            observed["names"] = sorted({str(event.fields.get("name")) for event in run.of_kind(Kind.BREAKER_STATE)})
    return observed


# ----------------------------------------------------------------------------- CircuitBreaker


@_drawn
def draw_trips(plan: Plan) -> dict[str, Any]:
    """Failures in runs shorter than the threshold, each run ended by a success; then ``threshold`` in a
    row, and calls before the timeout runs out (a parameter left out now and then: its default applies).
    Or, half of the time, ``CircuitBreaker()``: 5 failures in a row, then calls just before and at (or
    after) 30 s after it opened, and one more that succeeds."""
    rng = plan.rng
    if rng.random() < 1 / 2:
        opened = _failures_then_trip(plan, 5, ["ok"])
        for when in _near(rng, opened + 30.0):
            plan.wave(when, ("ok", rng.choice([0.0, plan.takes(0, 1)])))
        plan.then("ok", gap=_quarters(rng, 0, 2))  # closed again: what a failure does now, the closes cell grades
        return {"settings": {}, "sequential": True}
    settings: dict[str, Any] = {"failure_threshold": rng.randint(1, 6), "recovery_timeout": _quarters(rng, 5, 60)}
    settings.update(_name(rng))
    if rng.random() < 1 / 3:
        del settings[rng.choice(["failure_threshold", "recovery_timeout"])]
    threshold, timeout = settings.get("failure_threshold", 5), settings.get("recovery_timeout", 30.0)
    opened = _failures_then_trip(plan, threshold, ["ok"])
    for _ in range(rng.randint(1, 3)):
        plan.wave(opened + _quarters(rng, 0, timeout - 0.25), (rng.choice(["ok", "down"]), 0.0))
    plan.waves.sort(key=lambda wave: wave["at"])
    return {"settings": settings, "sequential": True}


def observe_trips(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """The calls (made, what the caller got, when; the service given its arguments), the state after
    each, the transitions to open and closed with their times, and the events' names."""
    return _play(names, scenario, transitions=True, arguments=True, event_names=True)


@_drawn
def draw_counts(plan: Plan) -> dict[str, Any]:
    """``counted=(ServiceDown,)``, or now and then two types (UpstreamError and ServiceDown, in either order,
    the failures raising one or the other): runs of NotCounted errors (some longer than the threshold), now
    and then a call whose caller is cancelled part-way through (a cancellation is no failure; whether it
    resets the count is left open, so it comes while the count is 0), runs of failures ended by a NotCounted
    error, then ``threshold`` failures in a row, then a call. (No success among them: that a success resets
    the count, the trips cell grades.)"""
    rng = plan.rng
    threshold = rng.randint(1, 5)
    counted = rng.choice(["ServiceDown", "ServiceDown", "UpstreamError ServiceDown", "ServiceDown UpstreamError"])
    failures = ("down",) if counted == "ServiceDown" else ("down", "upstream")
    for _ in range(rng.randint(1, 3)):
        for _ in range(rng.randint(1, threshold + 2)):
            plan.then("other", gap=_quarters(rng, 0, 1))
    if rng.random() < 0.3:  # after a NotCounted error: the count is 0
        plan.then(rng.choice(["ok", *failures]), plan.takes(0.25, 2), gap=_quarters(rng, 0, 1))
        _cancel_part_way(rng, plan.waves[-1]["calls"][0])
    opened = _failures_then_trip(plan, threshold, ["other"], failures)
    plan.wave(opened + _quarters(rng, 0, 5), (rng.choice(["ok", "other", *failures]), 0.0))
    settings = {"failure_threshold": threshold, "recovery_timeout": 60.0, "counted": counted}
    return {"settings": settings, "sequential": True}


def observe_counts(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """The calls: made or not, when; if not made, what the caller got; if made, whether it raised (or, its
    caller cancelled, whether it ended cancelled)."""
    return _play(names, scenario, transitions=False, loose=True, states=False)


@_drawn
def draw_open(plan: Plan) -> dict[str, Any]:
    """Opened by ``threshold`` failures in a row; then calls at random instants before the timeout runs
    out, just before it, and at it (or just after), where the wait is over: that call is made, and
    succeeds (what a failed trial does is the reopens cell's business)."""
    rng = plan.rng
    threshold, timeout = rng.randint(1, 3), _quarters(rng, 0.5, 40)
    opened = plan.now
    for _ in range(threshold):
        opened = plan.then("down", rng.choice([0.0, plan.takes(0, 1)]), gap=_quarters(rng, 0, 1))
    offsets = sorted({_quarters(rng, 0, timeout - 0.25) for _ in range(rng.randint(0, 3))})
    early, due = _near(rng, opened + timeout)
    for when in [opened + offset for offset in offsets if opened + offset < early] + [early, due]:
        plan.wave(when, ("ok", 0.0))
    return {"settings": {"failure_threshold": threshold, "recovery_timeout": timeout}, "sequential": True}


def observe_open(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """The calls: made or not, when; if not made, what the caller got; if made, its result (or that it
    raised: the failures that open the breaker)."""
    return _play(names, scenario, transitions=False, loose=True, states=False)


def _half_open_burst(plan: Plan) -> dict[str, Any]:
    """``counted=(ServiceDown,)``, opened by one failure; when the timeout has run out, a few trials one
    after the other (successes, NotCounted errors), then ``limit + extra`` calls together, taking different
    times; maybe more calls while some of those still run; then, after all, one more call, a success."""
    rng = plan.rng
    limit, timeout = rng.randint(1, 4), _quarters(rng, 0.5, 30)
    burst = plan.then("down") + timeout + rng.choice([0.0, _quarters(rng, 0.25, 2)])
    for _ in range(rng.randint(0, limit - 1)):  # trials one after the other: fewer than limit, it stays half open
        plan.wave(burst, (rng.choice(["ok", "other"]), plan.takes(0, 1)))
        burst = plan.now + _quarters(rng, 0, 1)
    calls = [(rng.choice(["ok", "ok", "other"]), plan.takes(0, 3)) for _ in range(limit + rng.randint(0, 3))]
    ends = plan.wave(burst, *calls)
    if rng.random() < 2 / 3:
        during = burst + _quarters(rng, 0.25, max(ends) - burst + 0.25)
        plan.wave(during, *[(rng.choice(["ok", "other"]), plan.takes(0, 2)) for _ in range(rng.randint(1, 3))])
    plan.then("ok", gap=_quarters(rng, 0.25, 1))
    settings = {"failure_threshold": 1, "recovery_timeout": timeout, "half_open_max_calls": limit}
    return {"settings": {**settings, "counted": "ServiceDown"}, "sequential": False, "setup": 1}


def _cancelled_trial(plan: Plan) -> dict[str, Any]:
    """Two or three trial slots, opened by one failure; when the timeout has run out, ``limit - 1`` long
    trials and trial B together, B's caller cancelled part-way through; then, while the long ones run, a
    call C, which is made: a cancelled trial frees its slot and is no failure. (Whether it counts as a
    success is left open: the breaker's state is not observed, and nothing comes after.)"""
    rng = plan.rng
    limit, timeout = rng.randint(2, 3), _quarters(rng, 0.5, 30)
    due = plan.then("down") + timeout + rng.choice([0.0, _quarters(rng, 0.25, 2)])
    long = [(rng.choice(["ok", "other"]), plan.takes(3, 5)) for _ in range(limit - 1)]
    plan.wave(due, *long, (rng.choice(["ok", "down", "other"]), plan.takes(0.25, 2)))
    cancelled = due + _cancel_part_way(rng, plan.waves[-1]["calls"][-1])
    plan.wave(_quarters(rng, cancelled + 0.125, cancelled + 0.75), (rng.choice(["ok", "other"]), plan.takes(0, 1)))
    settings = {"failure_threshold": 1, "recovery_timeout": timeout, "half_open_max_calls": limit}
    return {"settings": {**settings, "counted": "ServiceDown"}, "sequential": False, "setup": 1, "states": False}


def draw_half_open(rng: random.Random) -> dict[str, Any]:
    """A burst of calls in half open, or, now and then, a trial whose caller is cancelled."""
    return _drawn(_cancelled_trial if rng.random() < 0.25 else _half_open_burst)(rng)


def observe_half_open(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """The calls (made or rejected, what the caller got, when), and whether the breaker is closed after
    each (its checks read the state, not the events), unless the scenario says ``states: false``."""
    return _play(names, scenario, transitions=False, states=scenario.get("states", True))


def _reopen(plan: Plan) -> dict[str, Any]:
    """Opened by ``threshold`` failures at once; the trial fails after a while; calls just before and at (or
    after) the fresh timer's end, one after the other; then one more that succeeds."""
    rng = plan.rng
    threshold, timeout = rng.randint(1, 4), _quarters(rng, 0.5, 30)
    opened = _opened_at_once(plan, threshold)
    failed = plan.wave(opened + timeout + rng.choice([0.0, _quarters(rng, 0.25, 2)]), ("down", plan.takes(0, 2)))[0]
    for when in _near(rng, failed + timeout):
        plan.wave(when, ("ok", rng.choice([0.0, plan.takes(0, 1)])))
    plan.then("ok", gap=_quarters(rng, 0, 1))  # closed again: what a failure does now, the closes cell grades
    settings = {"failure_threshold": threshold, "recovery_timeout": timeout}
    return {"settings": settings, "sequential": True, "setup": threshold}


def _late_while_closed(plan: Plan, *, late_success: bool = False) -> dict[str, Any]:
    """Calls made together while closed fail one after the other: the ``threshold``-th opens the breaker,
    the later ones end while it is open, and so may successes made with them (they change nothing either;
    with ``late_success``, one or two surely do, in the second half of the timeout); then calls before the
    timeout runs out (before it would from the first failure, too: which failure starts the timer is the
    open cell's business; one right after the last late success) and at (or after) it. (All end before the
    breaker can close again: the reference would count a call made while closed that ends in a later closed
    period, which the statement says changes nothing.)"""
    rng = plan.rng
    threshold, timeout = rng.randint(2, 4), _quarters(rng, 2 if late_success else 1, 20)
    failing = timeout / 2 - 0.5 if late_success else timeout - 0.25  # the longest a failure takes
    failures = sorted(plan.takes(0, failing) for _ in range(threshold + rng.randint(1, 3)))
    opens = failures[threshold - 1]
    if late_success:
        successes = [plan.takes(timeout / 2, timeout - 1) for _ in range(rng.randint(1, 2))]
    else:
        drawn = (plan.takes(0, timeout - 0.25) for _ in range(rng.choice([0, 1, 2])))
        successes = [takes for takes in drawn if takes > opens]
    plan.wave(0.0, *[("down", takes) for takes in failures], *[("ok", takes) for takes in successes])
    early, due = _near(rng, failures[0] + timeout)
    after = [max(successes) + _quarters(rng, 0.25, 0.75)] if successes else []
    before = [when for when in [*after, early] if opens < when < failures[0] + timeout]
    for when in [*before, due + opens - failures[0]]:
        plan.wave(when, (rng.choice(["ok", "down"]), 0.0))
    plan.waves.sort(key=lambda wave: wave["at"])
    return {"settings": {"failure_threshold": threshold, "recovery_timeout": timeout}, "sequential": False}


def _late_trials(plan: Plan, *, fill: bool | None = None) -> dict[str, Any]:
    """Two or three trial slots: trial A fails soon and reopens the breaker while trial B (and C) run on;
    when the timeout has run out again, trial D runs, and B ends during it (succeeding or failing); then
    another call or two. Or, with ``fill`` (half of the time if None), ``limit`` long trials take every slot
    of the new period together (while B runs, or after it ended while open) and run on after B ended; a
    call after B's end, while they run, is rejected: a late trial neither holds a slot of the new period
    nor frees one (with ``fill`` True, the last of B and C fails during the new period)."""
    rng = plan.rng
    limit, timeout = rng.randint(2, 3), _quarters(rng, 1, 10)
    opened = plan.then("down")
    due = opened + timeout
    long = [(rng.choice(["ok", "down"]), plan.takes(timeout + 1, timeout + 4)) for _ in range(limit - 1)]
    if fill:  # it ends after the new period began (at most 1.5 s after A's failure and the timeout)
        long[-1] = ("down", plan.takes(timeout + 2, timeout + 4))
    first = plan.wave(due, ("down", plan.takes(0, 1)), *long)
    again = first[0] + timeout + rng.choice([0.0, 0.25])
    if not (rng.random() < 0.5 if fill is None else fill):
        plan.wave(again, ("ok", plan.takes(5, 7)))
    else:
        late = max(max(first[1:]), again)  # B has ended, the new trials run on
        plan.wave(again, *[("ok", plan.takes(late - again + 1, late - again + 3)) for _ in range(limit)])
        plan.wave(late + _quarters(rng, 0.25, 0.75), (rng.choice(["ok", "down"]), 0.0))
    plan.then(rng.choice(["ok", "down"]), rng.choice([0.0, plan.takes(0, 1)]), gap=_quarters(rng, 0, 1))
    settings = {"failure_threshold": 1, "recovery_timeout": timeout, "half_open_max_calls": limit}
    return {"settings": settings, "sequential": False, "setup": 1}


def _trial_after_closing(plan: Plan, *, does: str | None = None) -> dict[str, Any]:
    """As the checks' runs 4 and 5: ``failure_threshold=2``, two or three trial slots; opened by 2 failures at
    once; when the timeout has run out, a long trial T (doing ``does``, "ok" or "down" at random if None) and
    ``limit`` short trials one after the other, which succeed and close the breaker while T runs; failure F1;
    T ends (after its period: it changes nothing); failure F2, at least the timeout after F1 and less than
    it after T's end, opens the breaker. Observed (``states``, ``transitions``): the calls, and whether the
    breaker is closed after F2 only, no transitions: that closing resets the count and which failure starts
    the timer are the closes and open cells' business (a breaker that kept its count opens at F1, and, F2
    coming a timeout later, again at F2's failed trial)."""
    rng = plan.rng
    limit, timeout = rng.randint(2, 3), _quarters(rng, 0.5, 20)
    opened = _opened_at_once(plan, 2)
    due = opened + timeout + rng.choice([0.0, _quarters(rng, 0.25, 2)])
    longest = 2.5 * limit + timeout + 1  # T ends more than the timeout after the short trials and F1
    trial = (does or rng.choice(["ok", "down"]), plan.takes(longest, longest + 3))
    ended, now = plan.wave(due, trial, ("ok", plan.takes(0, 1)))
    for _ in range(limit - 1):
        now = plan.wave(now + _quarters(rng, 0.25, 1), ("ok", plan.takes(0, 1)))[0]
    plan.wave(now + _quarters(rng, 0.25, 1), ("down", 0.0))
    plan.wave(ended + _quarters(rng, 0.25, min(1.0, timeout - 0.25)), ("down", 0.0))
    settings = {"failure_threshold": 2, "recovery_timeout": timeout, "half_open_max_calls": limit}
    return {"settings": settings, "sequential": False, "setup": 2, "states": "last", "transitions": False}


def draw_reopens(rng: random.Random) -> dict[str, Any]:
    """A failed trial that reopens the breaker with a fresh timer, or calls that end after the period
    that made them (late failures and successes while open, late trials in a later half-open period or
    once the breaker has closed)."""
    return _drawn(rng.choice([_reopen, _late_while_closed, _late_trials, _trial_after_closing]))(rng)


def edge_fresh_slots(rng: random.Random) -> dict[str, Any]:
    """Every run: a half-open period's slots all taken while a late trial of the one before runs, which
    then fails (:func:`_late_trials` with ``fill``)."""
    return _drawn(lambda plan: _late_trials(plan, fill=True))(rng)


def edge_late_success_while_open(rng: random.Random) -> dict[str, Any]:
    """Every run: calls made while closed that succeed after a failure opened the breaker
    (:func:`_late_while_closed` with ``late_success``)."""
    return _drawn(lambda plan: _late_while_closed(plan, late_success=True))(rng)


def edge_late_success_after_closing(rng: random.Random) -> dict[str, Any]:
    """Every run: a trial that succeeds after the breaker closed, between failures (:func:`_trial_after_closing`)."""
    return _drawn(lambda plan: _trial_after_closing(plan, does="ok"))(rng)


def edge_late_failure_after_closing(rng: random.Random) -> dict[str, Any]:
    """Every run: a trial that fails after the breaker closed, between failures (:func:`_trial_after_closing`)."""
    return _drawn(lambda plan: _trial_after_closing(plan, does="down"))(rng)


def observe_reopens(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """The calls (made or rejected, what the caller got, when), the state after each (in a plan that is not
    sequential, whether it is closed), the transitions to open and closed with their times; less where the
    scenario says so (``states``, ``transitions``: :func:`_trial_after_closing`)."""
    return _play(names, scenario, transitions=scenario.get("transitions", True), states=scenario.get("states", True))


@_drawn
def draw_closes(plan: Plan) -> dict[str, Any]:
    """Opened by ``threshold`` failures at once; from the timeout on, ``limit`` trials one after the other
    that succeed; then, closed again, ``threshold`` failures in a row. (What a NotCounted error or a success
    among failures does, and how an open breaker rejects, are the counts, trips and open cells' business.)"""
    rng = plan.rng
    threshold, timeout, limit = rng.randint(1, 4), _quarters(rng, 0.5, 20), rng.randint(1, 4)
    opened = _opened_at_once(plan, threshold)
    plan.wave(opened + timeout + rng.choice([0.0, _quarters(rng, 0.25, 2)]), ("ok", plan.takes(0, 1)))
    for _ in range(limit - 1):
        plan.then("ok", plan.takes(0, 1), gap=_quarters(rng, 0, 1))
    for _ in range(threshold):
        plan.then("down", rng.choice([0.0, plan.takes(0, 1)]), gap=_quarters(rng, 0, 1.5))
    settings = {"failure_threshold": threshold, "recovery_timeout": timeout, "half_open_max_calls": limit}
    return {"settings": settings, "sequential": True}


def observe_closes(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """The calls (made or not, when; if not made, what the caller got; if made, its result, or that it
    raised), the state after each, the transitions to open and closed with their times."""
    return _play(names, scenario, transitions=True, loose=True)


# ----------------------------------------------------------------------------- protected


def draw_protected(rng: random.Random) -> dict[str, Any]:
    """A function's name and docstring, how long it takes, a few calls of it with their arguments (now and
    then one whose caller is cancelled ``cancel`` s after it began, part-way through), whether the spy
    breaker is open, and when the calls begin."""
    verb, noun = rng.choice(["get", "load", "fetch", "find"]), rng.choice(["item", "user", "price", "page"])
    takes = _quarters(rng, 0, 2)
    calls: list[dict[str, Any]] = [
        {
            "args": [rng.randint(-9, 99) for _ in range(rng.randint(0, 3))],
            "kwargs": {key: rng.randint(1, 9) for key in rng.sample(["scale", "shift", "limit"], rng.randint(0, 2))},
        }
        for _ in range(rng.randint(1, 3))
    ]
    for call in calls:
        if takes and rng.random() < 0.25:
            call["cancel"] = _part_way(rng, takes)
    return {
        "name": f"{verb}_{noun}",
        "doc": f"{verb.title()} the {noun} {rng.randint(1, 999)}.",
        "takes": takes,
        "calls": calls,
        "open": rng.random() < 0.3,
        "start": _start(rng),
    }


def observe_protected(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """``@protected(spy)`` on an async function of a drawn name and docstring, called a few times with
    drawn arguments (virtual clock), one after the other, each in a task of its own: what the spy breaker
    was given at decoration and at each call (the undecorated function or not, the arguments), what each
    call returned or raised (or "cancelled", if its task, cancelled ``cancel`` s after it began, ended
    cancelled) and when; the decorated function's name and docstring. An open spy rejects every call."""
    spy = SpyBreaker(open=scenario["open"])

    async def func(*args: int, **kwargs: int) -> list[Any]:
        await asyncio.sleep(scenario["takes"])
        return [sum(args), sorted(kwargs.items())]

    func.__name__ = func.__qualname__ = scenario["name"]
    func.__doc__ = scenario["doc"]
    guarded = names["protected"](spy)(func)
    at_decoration = len(spy.calls)

    async def main() -> list[Any]:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(scenario["start"])
        answers = []
        for call in scenario["calls"]:

            async def one(call: dict[str, Any] = call) -> Any:
                return await guarded(*call["args"], **call["kwargs"])

            task = asyncio.create_task(one())
            if "cancel" in call:
                loop.call_at(loop.time() + call["cancel"], task.cancel)
            await asyncio.wait({task})
            if task.cancelled():
                answer: Any = "cancelled"
            else:
                error = task.exception()
                answer = task.result() if error is None else type(error).__name__
            answers.append([answer, loop.time() - scenario["start"]])
        return answers

    run = run_virtual(main, deadline=scenario["start"] + 60, wall_limit=2.0)
    given = [[f is func, list(args), kwargs] for f, args, kwargs in spy.calls]
    return {
        **outcome(run),
        "given_at_decoration": at_decoration,
        "given": given,
        "name": str(getattr(guarded, "__name__", None)),
        "doc": str(getattr(guarded, "__doc__", None)),
    }


# ----------------------------------------------------------------------------- fetch_item

STATUSES = {  # what the service answers for an item: its faults
    "ok": lambda latency: Faults(latency=Latency.fixed(latency)),
    "down": lambda latency: Faults(outages=((0.0, 1e9),)),
    "error": lambda latency: Faults(latency=Latency.fixed(latency), error_rate=1.0),
    "limited": lambda latency: Faults(rate_limit=RateLimit(limit=0, window=3600.0)),
}


def _answered(rng: random.Random) -> int:
    """A status of the statement's three classes: 2xx, 4xx (404, "no such item", often), 5xx."""
    return rng.randint(*rng.choice([(200, 299), (400, 499), (404, 404), (500, 599)]))


def draw_fetch_item(rng: random.Random) -> dict[str, Any]:
    """Items of the course's service (answering as :data:`STATUSES` say), its latency, seed and start; then
    items of stand-ins each answering one status of any class (``answering``)."""
    items = rng.sample(range(1, 10_000), rng.randint(1, 4))
    return {
        "items": [[n, rng.choice(list(STATUSES))] for n in items],
        "latency": rng.randrange(0, 64) * TICK,
        "seed": rng.randrange(1000),
        "start": _start(rng),
        "answering": [[rng.randrange(1, 10_000), _answered(rng)] for _ in range(rng.randint(0, 3))],
    }


def _error(error: BaseException | None) -> Any:
    """An error as observed: its type, and the status (and path) it carries."""
    if error is None:
        return None
    if isinstance(error, UpstreamError):
        return ["UpstreamError", error.status, error.path]
    response = getattr(error, "response", None)
    return [type(error).__name__, getattr(response, "status_code", None)]


def _path(record: Any) -> str:
    """The path of a request as a log holds it: an httpx.Request (a stand-in's), or the course's service's record."""
    return str(record.url.path) if isinstance(record, httpx.Request) else str(record.path)


def observe_fetch_item(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """``fetch_item(client, spy, n)`` for each drawn item against the course's service in-process (each
    item answering 200, 503, 500 or 503 after a delay, or 429), then against a stand-in answering each
    ``answering`` item with its status (a JSON body for a 2xx), one after the other from ``start`` (virtual
    clock): what it returned or raised, what the function it gave the spy breaker raised, how many times it
    called the spy and how many requests the service got for that item, and when it ended."""
    endpoints = {f"/items/{n}": STATUSES[status](scenario["latency"]) for n, status in scenario["items"]}
    service = Service(seed=scenario["seed"], endpoints=endpoints)

    async def fetched(client: httpx.AsyncClient, n: int, log: Sequence[Any]) -> list[Any]:
        """One fetch_item, observed; the requests are those of ``log`` to its item."""
        spy = SpyBreaker(open=scenario.get("open", False))
        try:
            got = ["returned", await names["fetch_item"](client, spy, n)]
        except Exception as error:  # noqa: BLE001  (observed)
            got = ["raised", _error(error), error in spy.raised]
        inside = [_error(error) for error in spy.raised]
        requests = sum(_path(record) == f"/items/{n}" for record in log)
        return [got, inside, len(spy.calls), requests, asyncio.get_running_loop().time() - scenario["start"]]

    async def main() -> list[Any]:
        await asyncio.sleep(scenario["start"])
        seen = []
        async with service.client() as client:
            for n, _ in scenario["items"]:
                seen.append(await fetched(client, n, service.log))
        if not scenario.get("answering"):
            return seen
        answering = Answering(200)
        async with answering.client() as client:
            for n, status in scenario["answering"]:
                answering.status = status
                seen.append(await fetched(client, n, answering.log))
        return seen

    return outcome(run_virtual(main, deadline=scenario["start"] + 60, wall_limit=2.0))


def draw_fetch_item_open(rng: random.Random) -> dict[str, Any]:
    """As :func:`draw_fetch_item`, the spy breaker open, the course's service only."""
    return {**draw_fetch_item(rng), "open": True, "answering": []}


TRIPS = Probe(draw_trips, observe_trips)
PROBES = {
    "ch07-ex1-trips": TRIPS,
    "ch07-ex1-counts": Probe(draw_counts, observe_counts),
    "ch07-ex1-open": Probe(draw_open, observe_open),
    "ch07-ex1-half-open-limit": Probe(draw_half_open, observe_half_open),
    "ch07-ex1-reopens": Probe(
        draw_reopens,
        observe_reopens,
        edges=(
            edge_fresh_slots,
            edge_late_success_while_open,
            edge_late_success_after_closing,
            edge_late_failure_after_closing,
        ),
    ),
    "ch07-ex1-closes": Probe(draw_closes, observe_closes),
    "ch07-ex2-decorator": Probe(draw_protected, observe_protected),
    "ch07-ex3-answers": Probe(draw_fetch_item, observe_fetch_item),
    "ch07-ex3-open": Probe(draw_fetch_item_open, observe_fetch_item),
}
