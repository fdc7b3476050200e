"""The shared scenario kit (coursekit/scenario.py): timed calls and spies record on the loop's clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from coursekit.checks import Chain, CheckFailed
from coursekit.events import Kind, emit
from coursekit.scenario import (
    Outcome,
    Spy,
    alone_on_the_clock,
    cancellation_instants,
    cancellation_sweep,
    cancelled_at,
    ends_cancelled_at_each_wait,
    leaves_no_task_at_any_wait,
    make,
    sleep_until,
    sweep_instants,
    timed_call,
)
from coursekit.virtual_time import VirtualRun, run_virtual


async def answer_after(seconds: float, value: object = "ok") -> object:
    await asyncio.sleep(seconds)
    if isinstance(value, BaseException):
        raise value
    return value


def test_a_timed_call_records_when_it_was_asked_and_ended_and_its_value_or_error() -> None:
    async def scenario() -> tuple[Outcome, Outcome]:
        await sleep_until(1.5)
        returned = await timed_call(answer_after(2.0))
        raised = await timed_call(answer_after(0.5, ValueError("no")))
        return returned, raised

    run = run_virtual(scenario, deadline=10)
    assert run.value is not None
    returned, raised = run.value
    assert (returned.asked, returned.ended, returned.value, returned.took) == (1.5, 3.5, "ok", 2.0)
    assert returned.describe() == "returned 'ok' at t=3.5"
    assert isinstance(raised.error, ValueError) and raised.ended == 4.0 and not raised.cancelled
    assert raised.describe().startswith("raised ValueError")


def test_a_cancellation_is_recorded_only_when_asked_for() -> None:
    async def scenario() -> Outcome:
        task = asyncio.ensure_future(timed_call(answer_after(5.0), catch=BaseException))
        await asyncio.sleep(1.0)
        task.cancel()
        return await task

    outcome = run_virtual(scenario, deadline=10).value
    assert outcome is not None and outcome.cancelled and outcome.ended == 1.0

    async def not_recorded() -> Outcome:
        task = asyncio.ensure_future(timed_call(answer_after(5.0)))
        await asyncio.sleep(1.0)
        task.cancel()
        return await task

    assert isinstance(run_virtual(not_recorded, deadline=10).error, asyncio.CancelledError)


def test_a_spy_records_each_call_and_passes_its_result_or_error_on() -> None:
    spy = Spy(answer_after, name="upstream")

    async def scenario() -> tuple[object, Outcome]:
        first = await spy(1.0, "a")
        await sleep_until(4.0)
        second = await timed_call(spy(0.5, KeyError("k")))
        return first, second

    run = run_virtual(scenario, deadline=10)
    assert run.value is not None
    first, second = run.value
    assert first == "a" and isinstance(second.error, KeyError)
    assert spy.started == [0.0, 4.0] and spy.calls[1][1] == (0.5, second.error)
    assert [outcome.ended for outcome in spy.outcomes] == [1.0, 4.5] and repr(spy) == "upstream"


def test_make_names_the_class_and_settings_that_could_not_be_made() -> None:
    class Broken:
        def __init__(self, size: int) -> None:
            raise RuntimeError("boom")

    with pytest.raises(CheckFailed) as failure:
        make(Chain("Broken"), Broken, "Broken", size=3)
    assert failure.value.prop == "Broken(size=3) can be made" and "RuntimeError" in failure.value.observed


def test_a_call_cancelled_at_an_instant_is_recorded_as_cancelled_and_one_that_ended_first_is_not() -> None:
    async def scenario() -> tuple[Outcome, Outcome]:
        cut = await cancelled_at(lambda: answer_after(5.0), at=2.0)
        whole = await cancelled_at(lambda: answer_after(1.0, "done"), at=10.0)
        return cut, whole

    run = run_virtual(scenario, deadline=30)
    assert run.value is not None
    cut, whole = run.value
    assert cut.cancelled and (cut.asked, cut.ended) == (0.0, 2.0)
    assert not whole.cancelled and whole.value == "done" and whole.ended == 3.0


def test_the_cancellation_sweep_visits_every_instant_something_happened_and_the_gap_before_it() -> None:
    async def scenario() -> None:
        emit(Kind.WORK_START)
        await asyncio.sleep(1.0)
        emit(Kind.WORK_END)
        await asyncio.sleep(3.0)
        emit(Kind.WORK_START)

    run = run_virtual(scenario, deadline=10)
    assert cancellation_instants(run) == [0.5, 1.0, 2.5, 4.0]
    assert cancellation_instants(run, after=1.0) == [2.5, 4.0]


def sleeper_scenario(swallow: bool) -> Callable[[float], VirtualRun[Outcome]]:
    """A call that sleeps 1 s twice; ``swallow``: it catches its cancellation and returns "late"."""

    async def call() -> str:
        try:
            await asyncio.sleep(1.0)
            emit(Kind.WORK_END)
            await asyncio.sleep(1.0)
        except asyncio.CancelledError:
            if not swallow:
                raise
            return "late"
        return "done"

    def scenario(at: float) -> VirtualRun[Outcome]:
        return run_virtual(lambda: cancelled_at(call, at), deadline=10)

    return scenario


def test_a_sweep_cancels_a_call_as_it_starts_and_at_each_of_its_waits() -> None:
    swept = cancellation_sweep(Chain("sleeper"), "sleeper()", sleeper_scenario(swallow=False))
    assert [one.at for one in swept] == [0.0, 0.5, 1.5] and all(one.outcome.cancelled for one in swept)
    ends_cancelled_at_each_wait(Chain("sleeper"), "sleeper()", swept, hint="")


def test_a_call_that_swallows_its_cancellation_is_named_at_the_first_instant() -> None:
    swept = cancellation_sweep(Chain("sleeper"), "sleeper()", sleeper_scenario(swallow=True))
    with pytest.raises(CheckFailed) as failure:
        ends_cancelled_at_each_wait(Chain("sleeper"), "sleeper()", swept, hint="let it propagate")
    assert failure.value.observed == (
        "sleeper(), cancelled at t=0, returned 'late' at t=0 (and likewise at 2 more instant(s))"
    )
    assert failure.value.hint == "let it propagate"


def test_sweep_instants_of_a_call_started_later_begin_at_its_start() -> None:
    async def late() -> None:
        await sleep_until(3.0)
        emit(Kind.WORK_START)
        await asyncio.sleep(2.0)

    run = run_virtual(late, deadline=10)
    assert sweep_instants(run, start=3.0) == [3.0, 4.0]
    assert sweep_instants(run, start=3.0, until=4.5) == [3.0, 3.75]


def test_a_sweep_that_leaves_a_task_names_the_first_instant_and_the_task() -> None:
    async def leaky() -> None:
        asyncio.get_running_loop().create_task(asyncio.sleep(100.0), name="forgotten")
        await asyncio.sleep(2.0)

    swept = cancellation_sweep(Chain("leaky"), "leaky()", alone_on_the_clock(leaky, deadline=10))
    with pytest.raises(CheckFailed) as failure:
        leaves_no_task_at_any_wait(Chain("leaky"), "leaky()", swept, hint="cancel what you start")
    assert failure.value.prop == "a cancelled leaky() leaves no task running"
    assert failure.value.observed.startswith("leaky() was cancelled at t=0 s; then ")
    assert "forgotten" in failure.value.observed and failure.value.hint == "cancel what you start"

    tidy = cancellation_sweep(Chain("tidy"), "tidy()", alone_on_the_clock(lambda: asyncio.sleep(2.0), deadline=10))
    leaves_no_task_at_any_wait(Chain("tidy"), "tidy()", tidy, hint="", prop="tidy() leaves nothing")
