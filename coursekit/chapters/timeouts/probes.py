"""Chapter 5 probes: call_with_fallback, Deadline and shutdown on random Operation stand-ins.

Clock: every run is on the virtual clock of :func:`~coursekit.virtual_time.run_virtual`, which
starts at 0; scenarios begin at a random ``start``. Every scenario time is a multiple of 0.25 s
(exact in binary, so sums are exact whatever the arithmetic), and a duration is never equal to
its timeout or grace period: the instant the statements leave open. A caller that the probe
cancels during a wait of the code under test is cancelled on that grid, when nothing ends, or half
a step off it (:data:`HALF`). What an ``Operation`` went through
(:class:`~coursekit.chapters.timeouts.given.Call`: started, ended, cancelled, cleaned up) is observed
as it was when the code under test returned.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from coursekit.chapters.timeouts.given import Operation, OperationFailed
from coursekit.probing import Probe, outcome
from coursekit.virtual_time import VirtualRun, run_virtual

STEP = 0.25  # the grid of every scenario time
HALF = STEP / 2  # a cancellation between two instants of the grid: never when something ends
CANCELLED_SHARE = 0.3  # of the shutdown results' scenarios: shutdown itself cancelled on the way
WALL = 2.0  # real seconds a scenario may block the loop
OWN_ERROR = "the operation's own error"


def _q(rng: random.Random, low: float, high: float) -> float:
    """A multiple of :data:`STEP` in ``[low, high]`` (``low`` when the range is empty)."""
    return STEP * rng.randint(round(low / STEP), max(round(low / STEP), round(high / STEP)))


def _start(rng: random.Random) -> float:
    return rng.choice([0.0, _q(rng, STEP, 50)])


def _around(rng: random.Random, limit: float, late: bool, longest: float) -> float:
    """A duration at least one step before ``limit`` (0 at the least), or after it by up to ``longest``."""
    return _q(rng, limit + STEP, limit + longest) if late else _q(rng, 0, limit - STEP)


def _cleanup(rng: random.Random) -> float:
    return rng.choice([0.0, _q(rng, STEP, 3)])


def _calls(operation: Operation, *, stubborn: bool = False) -> list[dict[str, Any]]:
    """The operation's calls as they are now; a stubborn one's last swallowed cancel is left out
    (code may cancel it more than once)."""
    calls = [asdict(call) for call in operation.calls]
    return [{k: v for k, v in call.items() if k != "cancelled_at"} for call in calls] if stubborn else calls


def _bool(value: Any) -> Any:
    """A bool as it is; anything else by its type (1 is not True)."""
    return value if isinstance(value, bool) else {"not a bool": type(value).__name__}


def _now() -> float:
    return asyncio.get_running_loop().time()


def _run(main: Any, deadline: float) -> VirtualRun[Any]:
    return run_virtual(main, deadline=deadline, wall_limit=WALL)


# ---------------------------------------------------------------- call_with_fallback


def draw_fallback(rng: random.Random) -> dict[str, Any]:
    """An operation in time or late; when in time, a ``second`` call (in time too) right after it,
    mostly one still running when the first call's timeout would have come (never at that instant)."""
    timeout = _q(rng, STEP, 6)
    duration = _around(rng, timeout, rng.random() < 0.5, 20)
    straddles = duration >= 2 * STEP and rng.random() < 0.7
    second = _q(rng, timeout - duration + STEP, timeout - STEP) if straddles else _q(rng, 0, timeout - duration - STEP)
    return {
        "duration": duration,
        "timeout": timeout,
        "cleanup": _cleanup(rng),
        "result": None if rng.random() < 0.15 else f"fresh {rng.randint(0, 999)}",
        "fallback": f"fallback {rng.randint(0, 999)}",
        "start": _start(rng),
        "second": second if duration < timeout else None,
    }


def _fallback_run(
    names: Mapping[str, Any], scenario: dict[str, Any], operation: Operation, second: float | None = None
) -> Any:
    """What ``call_with_fallback(operation, timeout, fallback)`` returned (or raised: the operation's
    own error is named as such), when, the operation's calls then, and the tasks it left running.
    With ``second``, the caller goes on: a second call right after, on an operation taking ``second``
    s, then ``timeout`` s of other work: what the second call returned (or raised) and when, and
    whether the other work was cancelled (a timer of the first call's left armed)."""
    start, timeout = scenario["start"], scenario["timeout"]

    async def main() -> dict[str, Any]:
        await asyncio.sleep(start)
        value = await names["call_with_fallback"](operation, timeout, scenario["fallback"])
        returned = _now()
        await asyncio.sleep(0)  # a cancel() just requested is delivered, as in the checks
        seen = {"value": value, "at": returned, "calls": _calls(operation)}
        if second is not None:
            seen["then"] = await _goes_on(names, scenario, second)
        return seen

    run = _run(main, start + 4 * (timeout + operation.duration + operation.cleanup + (second or 0.0)) + 10)
    ended = {"raised": OWN_ERROR} if run.error is not None and run.error is operation.error else outcome(run)
    return {**ended, "left_running": len(run.leftover)}


async def _goes_on(names: Mapping[str, Any], scenario: dict[str, Any], second: float) -> dict[str, Any]:
    """The caller's next steps after a call in time: a second call (an operation taking ``second`` s,
    in time), then ``timeout`` s of other work. How each ended, and when (nothing may cancel them)."""
    operation = Operation("second lookup", second, result="fresh again")
    try:
        value: Any = await names["call_with_fallback"](operation, scenario["timeout"], scenario["fallback"])
        then: dict[str, Any] = {"second": ["returned", value, _now()]}
    except BaseException as error:  # noqa: BLE001  (a stale timer's CancelledError is what is observed)
        then = {"second": ["raised", type(error).__name__, _now()]}
    try:
        await asyncio.sleep(scenario["timeout"])
        then["other_work"] = ["done", _now()]
    except asyncio.CancelledError:
        then["other_work"] = ["cancelled", _now()]
    return then


def observe_fallback(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """A lookup taking ``duration`` s (cleaning up for ``cleanup`` s if cancelled): its result in time,
    or the fallback after its cleanup; in time, then the ``second`` call and other work; see
    :func:`_fallback_run`."""
    operation = Operation("lookup", scenario["duration"], result=scenario["result"], cleanup=scenario["cleanup"])
    return _fallback_run(names, scenario, operation, scenario.get("second"))


ERRORS = ("OperationFailed", "TimeoutError", "ConnectionResetError", "ValueError")  # as the checks' errors


def draw_fallback_errors(rng: random.Random) -> dict[str, Any]:
    """An error before the timeout (one of :data:`ERRORS`); or a caller cancelled before it, whose
    operation cleans up until before the timeout or past it; or (``in_cleanup``) a late operation's
    caller cancelled half-way between two grid instants of its cleanup after the timeout."""
    kind = rng.choice([*ERRORS, "cancelled", "cancelled", "in_cleanup"])
    timeout = _q(rng, 2 * STEP, 6)
    if kind == "in_cleanup":
        cleanup = _q(rng, STEP, 3)
        return {
            "kind": kind,
            "timeout": timeout,
            "at": timeout + _q(rng, 0, cleanup - STEP) + HALF,  # when the caller is cancelled
            "duration": _q(rng, timeout + STEP, timeout + 20),
            "cleanup": cleanup,
            "fallback": f"fallback {rng.randint(0, 999)}",
            "start": _start(rng),
        }
    early = _q(rng, STEP if kind == "cancelled" else 0, timeout - STEP)
    before = [_q(rng, STEP, timeout - early - STEP)] if timeout - early >= 2 * STEP else []
    past = _q(rng, timeout - early + STEP, timeout - early + 3)
    return {
        "kind": kind,
        "timeout": timeout,
        "at": early,  # when the operation fails, or when the caller is cancelled
        "duration": _q(rng, early + STEP, early + 20),  # of the operation whose caller is cancelled
        "cleanup": rng.choice([0.0, *before, past]) if kind == "cancelled" else 0.0,
        "fallback": f"fallback {rng.randint(0, 999)}",
        "start": _start(rng),
    }


def _error_of(kind: str) -> Exception:
    """The error an operation of the errors' cell raises, as the checks make it."""
    if kind == "TimeoutError":
        return TimeoutError("the lookup's own connect timeout")
    if kind == "ConnectionResetError":
        return ConnectionResetError("the server reset the connection")
    if kind == "ValueError":
        return ValueError("the lookup got a malformed answer")
    return OperationFailed("the lookup failed")


def observe_fallback_errors(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """An operation raising ``kind`` at ``at``, before the timeout (observed as by :func:`_fallback_run`);
    or, for ``cancelled`` and ``in_cleanup``, a caller cancelled at ``at``: see :func:`_cancelled_caller`."""
    if scenario["kind"] in ("cancelled", "in_cleanup"):
        return _cancelled_caller(names, scenario)
    return _fallback_run(names, scenario, Operation("lookup", scenario["at"], error=_error_of(scenario["kind"])))


def _cancelled_caller(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """How the caller's task ended when cancelled at ``start + at``, when, the operation's calls then,
    and the tasks left running. Where the operation's cleanup goes past the timeout, the statement
    leaves open whether the timeout cuts it short, so neither when the caller ended nor when the
    cleanup did is observed; and for a caller cancelled during that cleanup (``in_cleanup``), whether
    the call waits for the rest of it (wait_for does not): no tasks left running is not observed."""
    operation = Operation("lookup", scenario["duration"], result="fresh", cleanup=scenario["cleanup"])
    start = scenario["start"]

    async def main() -> dict[str, Any]:
        await asyncio.sleep(start)
        call = names["call_with_fallback"](operation, scenario["timeout"], scenario["fallback"])
        caller = asyncio.create_task(call, name="caller")
        await asyncio.sleep(scenario["at"])
        caller.cancel()
        await asyncio.wait({caller})
        ended = _now()
        await asyncio.sleep(0)
        if caller.cancelled():
            how: Any = "cancelled"
        elif caller.exception() is not None:
            how = {"raised": type(caller.exception()).__name__}
        else:
            how = {"returned": caller.result()}
        calls = _calls(operation)
        if not open_end:
            return {"caller": how, "at": ended, "calls": calls}
        return {"caller": how, "calls": [{k: v for k, v in call.items() if k != "cleaned_up"} for call in calls]}

    open_end = scenario["at"] + scenario["cleanup"] > scenario["timeout"]
    run = _run(main, start + 4 * (scenario["timeout"] + scenario["duration"] + scenario["cleanup"]) + 10)
    if scenario["kind"] == "in_cleanup":
        return outcome(run)
    return {**outcome(run), "left_running": len(run.leftover)}


# ---------------------------------------------------------------------- Deadline


def draw_deadline_clock(rng: random.Random) -> dict[str, Any]:
    seconds = rng.choice([0.0, _q(rng, STEP, 60)])
    reads = {0.0, seconds, *(_q(rng, 0, 2 * seconds + 4) for _ in range(rng.randint(1, 4)))}
    return {"seconds": seconds, "reads": sorted(reads), "start": _start(rng)}


def observe_deadline_clock(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """``Deadline.after(seconds)`` made at ``start``: its ``when``, ``remaining()`` and ``expired()`` read
    ``reads`` s later (the deadline itself among them)."""
    start = scenario["start"]

    async def main() -> list[dict[str, Any]]:
        await asyncio.sleep(start)
        deadline = names["Deadline"].after(scenario["seconds"])
        seen = []
        for offset in scenario["reads"]:
            await asyncio.sleep(start + offset - _now())
            seen.append(
                {
                    "now": _now(),
                    "when": deadline.when,
                    "remaining": deadline.remaining(),
                    "expired": _bool(deadline.expired()),
                }
            )
        return seen

    return outcome(_run(main, start + 2 * scenario["reads"][-1] + 10))


def draw_deadline_child(rng: random.Random) -> dict[str, Any]:
    parent = _q(rng, STEP, 30)
    return {
        "parent": parent,
        "elapsed": _q(rng, 0, parent),  # the parent has not expired (or just has) when the children are made
        "children": [_q(rng, 0, 2 * parent + 2) for _ in range(rng.randint(2, 4))],
        "grandchild": _q(rng, 0, parent + 2),
        "start": _start(rng),
    }


def observe_deadline_child(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """``Deadline.after(parent)`` made at ``start``: ``elapsed`` s later, whether each ``.child(seconds)``
    is a Deadline and its ``when``; then a child of the first child."""
    deadline_class = names["Deadline"]

    def seen(deadline: Any) -> dict[str, Any]:
        is_deadline = isinstance(deadline, deadline_class)
        return {"is_deadline": is_deadline, "when": deadline.when if is_deadline else None}

    async def main() -> dict[str, Any]:
        await asyncio.sleep(scenario["start"])
        deadline = deadline_class.after(scenario["parent"])
        await asyncio.sleep(scenario["elapsed"])
        children = [deadline.child(seconds) for seconds in scenario["children"]]
        grandchild = children[0].child(scenario["grandchild"])
        return {"children": [seen(child) for child in children], "grandchild": seen(grandchild)}

    return outcome(_run(main, scenario["start"] + scenario["elapsed"] + 10))


def draw_deadline_scope(rng: random.Random) -> dict[str, Any]:
    seconds = _q(rng, STEP, 10)
    shorter = seconds >= 2 * STEP and rng.random() < 0.5
    return {
        "seconds": seconds,
        "work": _around(rng, seconds, rng.random() < 0.6, 10),
        "cleanup": _cleanup(rng),
        "child": _q(rng, STEP, seconds - STEP) if shorter else _q(rng, seconds, 10 * seconds),
        "start": _start(rng),
    }


def observe_deadline_scope(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """``async with Deadline.after(seconds).scope(): await step()`` (``work`` s, ``cleanup`` s): how the
    block ended, when, and the step's calls; then a layer under a ``child`` scope (see :func:`_nested`)."""
    start, seconds = scenario["start"], scenario["seconds"]
    step = Operation("step", scenario["work"], cleanup=scenario["cleanup"])

    async def single() -> dict[str, Any]:
        await asyncio.sleep(start)
        try:
            async with names["Deadline"].after(seconds).scope():
                await step()
        except TimeoutError:
            return {"how": "TimeoutError", "at": _now(), "calls": _calls(step)}
        return {"how": "ended", "at": _now(), "calls": _calls(step)}

    deadline = start + 4 * (seconds + scenario["work"] + scenario["cleanup"]) + 10
    return {"single": outcome(_run(single, deadline)), "nested": _nested(names, scenario)}


def _nested(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """Under ``deadline.scope()``, an inner layer in ``deadline.child(child).scope()``, then an outer
    step, both endless: when each was cancelled, and when the whole ended. The outer step is observed
    only when the child ends first (at the parent's deadline both scopes expire at once, in an order
    the statement leaves open)."""
    start, seconds = scenario["start"], scenario["seconds"]
    inner, outer = Operation("inner", 1000.0), Operation("outer", 1000.0)

    async def main() -> dict[str, Any]:
        await asyncio.sleep(start)
        deadline = names["Deadline"].after(seconds)
        try:
            async with deadline.scope():
                try:
                    async with deadline.child(scenario["child"]).scope():
                        await inner()
                except TimeoutError:
                    pass
                await outer()
        except TimeoutError:
            pass
        seen = {"at": _now(), "inner": _calls(inner)}
        return {**seen, "outer": _calls(outer)} if scenario["child"] < seconds else seen

    return outcome(_run(main, start + 10 * seconds + 10))


# ---------------------------------------------------------------------- shutdown


def _draw_shutdown(rng: random.Random, *, stubborn: float, empty: float) -> dict[str, Any]:
    grace = _q(rng, STEP, 6)
    count = 0 if rng.random() < empty else rng.randint(1, 5)
    tasks = [
        {
            "name": f"task {n}",
            "duration": _around(rng, grace, rng.random() < 0.5, 10),
            "fails": rng.random() < 0.3,
            "cleanup": _cleanup(rng),
            "stubborn": rng.random() < stubborn,
        }
        for n in range(count)
    ]
    return {"grace": grace, "tasks": tasks, "start": _start(rng)}


def draw_shutdown(rng: random.Random) -> dict[str, Any]:
    """Tasks that end in the grace period or after it; now and then (``cancel_at``, from the start)
    shutdown itself cancelled half-way between two grid instants while it waits: mostly while the
    tasks cancelled at the end of the grace period clean up."""
    scenario = _draw_shutdown(rng, stubborn=0.0, empty=0.0)
    if rng.random() < CANCELLED_SHARE:
        grace = scenario["grace"]
        ends = [t["duration"] if t["duration"] < grace else grace + t["cleanup"] for t in scenario["tasks"]]
        cleaning = max(ends) - grace  # after the grace period, until the last cleanup ends
        low, high = (grace, max(ends)) if cleaning > 0 and rng.random() < 0.7 else (0.0, max(ends))
        scenario["cancel_at"] = _q(rng, low, high - STEP) + HALF
    return scenario


def draw_shutdown_edge_cases(rng: random.Random) -> dict[str, Any]:
    """What the edge cases are about: tasks that ignore their cancellation and return (at least one
    still running at the end of the grace period), or now and then no task at all. Failures and
    tasks that end cancelled are the results' cell's (:func:`draw_shutdown`)."""
    grace = _q(rng, STEP, 6)
    count = 0 if rng.random() < 0.3 else rng.randint(1, 4)
    late = [n == 0 or rng.random() < 0.6 for n in range(count)]
    tasks = [
        {
            "name": f"task {n}",
            "duration": _around(rng, grace, late[n], 10),
            "fails": False,
            "cleanup": 0.0,
            "stubborn": True,
        }
        for n in range(count)
    ]
    return {"grace": grace, "tasks": tasks, "start": _start(rng)}


def _operations(scenario: dict[str, Any]) -> list[Operation]:
    """The Operations a shutdown scenario's tasks run, one per entry of ``tasks``."""
    return [
        Operation(
            task["name"],
            task["duration"],
            result=f"{task['name']} done",
            error=OperationFailed(f"{task['name']} failed") if task["fails"] else None,
            cleanup=task["cleanup"],
            stubborn=task["stubborn"],
        )
        for task in scenario["tasks"]
    ]


def observe_shutdown(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """``shutdown(tasks, grace)`` at ``start`` on tasks running Operations: the report, when it returned,
    each operation's calls then, and the tasks left running and failures left unretrieved."""
    start, grace = scenario["start"], scenario["grace"]
    operations = _operations(scenario)

    async def main() -> dict[str, Any]:
        await asyncio.sleep(start)
        tasks = [asyncio.create_task(operation(), name=operation.name) for operation in operations]
        report = await names["shutdown"](tasks, grace)
        return {
            "report": report,
            "at": _now(),
            "calls": {op.name: _calls(op, stubborn=op.stubborn) for op in operations},
        }

    longest = max((op.duration + op.cleanup for op in operations), default=0.0)
    run = _run(main, start + 4 * (grace + longest) + 10)
    observed = {**outcome(run), "left_running": len(run.leftover), "unretrieved": len(run.unhandled)}
    if scenario.get("cancel_at") is not None:
        observed["cancelled"] = _cancelled_shutdown(names, scenario)
    return observed


def _cancelled_shutdown(names: Mapping[str, Any], scenario: dict[str, Any]) -> Any:
    """``shutdown(tasks, grace)`` as in :func:`observe_shutdown`, its own task cancelled ``cancel_at``
    s after the start: only how it ended (what becomes of the tasks then is left open)."""
    start, grace = scenario["start"], scenario["grace"]
    operations = _operations(scenario)

    async def main() -> Any:
        await asyncio.sleep(start)
        tasks = [asyncio.create_task(operation(), name=operation.name) for operation in operations]
        call = asyncio.create_task(names["shutdown"](tasks, grace))
        await asyncio.wait({call}, timeout=scenario["cancel_at"])
        call.cancel()
        await asyncio.wait({call})
        for task in tasks:  # the tasks' own ends are not observed: no unretrieved failures logged
            task.cancel()
        await asyncio.wait(tasks)
        for task in tasks:
            if not task.cancelled():
                task.exception()
        if call.cancelled():
            return "cancelled"
        return {"raised": type(call.exception()).__name__} if call.exception() is not None else "returned"

    longest = max((op.duration + op.cleanup for op in operations), default=0.0)
    return outcome(_run(main, start + 4 * (grace + longest) + 10))


PROBES = {
    "ch05-ex1-results": Probe(draw_fallback, observe_fallback),
    "ch05-ex1-errors": Probe(draw_fallback_errors, observe_fallback_errors),
    "ch05-ex2-clock": Probe(draw_deadline_clock, observe_deadline_clock),
    "ch05-ex2-child": Probe(draw_deadline_child, observe_deadline_child),
    "ch05-ex2-scope": Probe(draw_deadline_scope, observe_deadline_scope),
    "ch05-ex3-results": Probe(draw_shutdown, observe_shutdown),
    "ch05-ex3-edge-cases": Probe(draw_shutdown_edge_cases, observe_shutdown),
}
