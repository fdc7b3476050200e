"""The check chain: ✓ lines while properties hold, one structured message at the first failure."""

from __future__ import annotations

import asyncio
import inspect
from types import TracebackType

import pytest

from coursekit import run_virtual
from coursekit.checks import Chain, CheckFailed, describe_error, is_placeholder, learner_facing, learner_frames
from coursekit.exercise_gate import exercise_done, unfinished


def test_chain_prints_each_property_and_stops_at_the_first_failure(capsys: pytest.CaptureFixture[str]) -> None:
    chain = Chain("thing")
    chain.require(True, "first holds", observed="-", hint="-")
    with pytest.raises(CheckFailed) as failure:
        chain.require(False, "second holds", observed=lambda: "saw 3", hint="try 2")
        chain.require(False, "third holds", observed="never reached", hint="-")
    assert capsys.readouterr().out == "✓ first holds\n"
    assert str(failure.value) == "thing: second holds: FAILED\n  observed: saw 3\n  hint: try 2"
    assert (failure.value.prop, failure.value.observed, failure.value.hint) == ("second holds", "saw 3", "try 2")


def test_require_async_function_rejects_a_plain_function() -> None:
    def plain() -> None: ...

    with pytest.raises(CheckFailed, match="plain is defined with `async def`"):
        Chain("plain").require_async_function(plain, "plain")


@pytest.mark.parametrize(
    "body, prop",
    [
        ("raise", "f runs without raising"),
        ("hang", "f finishes"),
    ],
)
def test_require_finished_names_the_failed_property(body: str, prop: str) -> None:
    async def f() -> None:
        if body == "raise":
            raise RuntimeError("nope")
        await asyncio.Event().wait()

    with pytest.raises(CheckFailed) as failure:
        Chain("f").require_finished(run_virtual(f, deadline=5), "f")
    assert failure.value.prop == prop


def test_describe_error_lists_the_leaves_of_an_exception_group() -> None:
    group = ExceptionGroup("two", [ValueError("a"), ExceptionGroup("inner", [KeyError("b")])])
    assert describe_error(group) == "ExceptionGroup containing ValueError: a, KeyError: 'b'"


def test_a_learner_facing_check_fails_with_no_internal_frames() -> None:
    def helper() -> None:
        Chain("thing").require(False, "it holds", observed="no", hint="yes")

    with pytest.raises(CheckFailed) as failure:
        learner_facing(helper)()
    names = [entry.name for entry in failure.traceback]
    assert "helper" not in names and "require" not in names, names


def test_a_failing_check_names_its_scenario_with_every_argument() -> None:
    @learner_facing
    def check_twice(func: object, *, items: tuple[int, ...] = (1, 2), limit: int = 3) -> None:
        Chain("twice").require(False, "it doubles", observed="saw 3", hint="-")

    def twice(x: int) -> int:
        return 2 * x

    with pytest.raises(CheckFailed) as failure:
        check_twice(twice, limit=1)
    assert failure.value.scenario == "check_twice(twice, items=(1, 2), limit=1)"
    assert str(failure.value).splitlines()[1] == "  scenario: check_twice(twice, items=(1, 2), limit=1)"


class HalfDone:
    """A class exercise as released, with one method written: ``run`` is still the placeholder."""

    def __init__(self) -> None:
        self.ready = True

    def size(self) -> int:
        return 3

    async def run(self) -> int:
        """Run it."""
        # YOUR CODE HERE
        raise NotImplementedError()

    def _helper(self) -> None:
        raise NotImplementedError()

    @classmethod
    def make(cls) -> HalfDone:
        raise NotImplementedError()


@learner_facing
def check_half_done(cls: type[HalfDone], *, call_run: bool = True) -> None:
    chain = Chain("HalfDone")
    value = run_virtual(cls().run).value if call_run else None
    chain.require(value == 3, "run() returns 3", observed=f"it returned {value!r}", hint="return 3")


def test_a_failure_caused_by_a_placeholder_that_ran_names_the_placeholder() -> None:
    with pytest.raises(CheckFailed) as failure:
        check_half_done(HalfDone)
    assert failure.value.prop == "HalfDone.run is implemented"
    assert "the placeholder is still there" in failure.value.observed
    assert inspect.iscoroutinefunction(HalfDone.run) and HalfDone.run.__name__ == "run"  # restored


@learner_facing
def check_made(cls: type[HalfDone]) -> None:
    try:
        made: HalfDone | None = cls.make()
    except NotImplementedError:
        made = None
    Chain("HalfDone").require(made is not None, "make() makes one", observed="-", hint="-")


def test_a_class_method_left_as_released_is_named_and_restored() -> None:
    with pytest.raises(CheckFailed) as failure:
        check_made(HalfDone)
    assert failure.value.prop == "HalfDone.make is implemented"
    assert isinstance(vars(HalfDone)["make"], classmethod) and is_placeholder(vars(HalfDone)["make"].__func__)


def test_a_placeholder_that_did_not_run_changes_nothing() -> None:
    with pytest.raises(CheckFailed) as failure:
        check_half_done(HalfDone, call_run=False)
    assert failure.value.prop == "run() returns 3"


def test_only_a_bare_raise_is_a_placeholder() -> None:
    def partly(x: int) -> int:
        if x < 0:
            raise NotImplementedError()
        return x

    assert is_placeholder(HalfDone.run) and is_placeholder(HalfDone._helper)
    assert not is_placeholder(partly) and not is_placeholder(HalfDone.size) and not is_placeholder(len)


@learner_facing
def check_three_things(value: int) -> None:
    chain = Chain("value")
    for limit in (30, 20, 10):
        chain.require(value < limit, f"it is below {limit}", observed=f"it is {value}", hint=f"try {limit - 1}")


def test_a_learner_facing_check_prints_the_held_properties_only_when_it_passes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    check_three_things(5)
    assert capsys.readouterr().out == "✓ it is below 30\n✓ it is below 20\n✓ it is below 10\n"
    with pytest.raises(CheckFailed) as failure:
        check_three_things(15)
    assert capsys.readouterr().out == "", "a failure is the first thing the learner reads"
    assert str(failure.value).splitlines()[0] == "value: it is below 10: FAILED"
    assert str(failure.value).splitlines()[-1] == "  held before it: it is below 30; it is below 20"


def test_a_long_list_of_held_properties_is_summarized() -> None:
    failure = CheckFailed("s", "p", "o", "h", held=("a", "b", "c", "d"))
    assert str(failure).splitlines()[-1] == "  held before it: 4 properties, the last 2: c; d"


def test_a_check_inside_a_check_prints_its_lines_with_the_outer_ones(capsys: pytest.CaptureFixture[str]) -> None:
    @learner_facing
    def check_outer(value: int) -> None:
        Chain("outer").require(True, "outer holds", observed="-", hint="-")
        check_three_things(value)

    with pytest.raises(CheckFailed) as failure:
        check_outer(15)
    assert capsys.readouterr().out == ""
    assert failure.value.held == ("outer holds", "it is below 30", "it is below 20")


@learner_facing
def check_a_default_then_two_things(default: int, value: object) -> None:
    """A generic property (the default kept), then two specific ones about ``value``."""
    chain = Chain("value")
    chain.require(True, "it is made", observed="-", hint="-")
    chain.require(default == 10, "the default is 10", observed=f"it is {default}", hint="keep it", generic=True)
    chain.require(value != 0, "it is not 0", observed="it is 0", hint="not 0")
    below = value < 20  # type: ignore[operator]  # a value of another type makes this step raise
    chain.require(below, "it is below 20", observed=f"it is {value}", hint="try 19")


def test_a_failing_generic_property_gives_way_to_a_specific_one_after_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(CheckFailed) as failure:
        check_a_default_then_two_things(5, 25)
    assert failure.value.prop == "it is below 20", "the most specific failure is told"
    assert failure.value.held == ("it is made", "it is not 0")
    assert capsys.readouterr().out == ""


def test_a_failing_generic_property_is_told_when_nothing_specific_fails() -> None:
    with pytest.raises(CheckFailed) as failure:
        check_a_default_then_two_things(5, 3)
    assert failure.value.prop == "the default is 10"
    assert failure.value.held == ("it is made",), "only what held before it"
    assert str(failure.value).splitlines()[-1] == "  held before it: it is made"


def test_a_failing_generic_property_is_told_when_a_later_step_cannot_run() -> None:
    with pytest.raises(CheckFailed) as failure:
        check_a_default_then_two_things(5, "text")
    assert failure.value.prop == "the default is 10"
    with pytest.raises(TypeError):
        check_a_default_then_two_things(10, "text")  # no generic failure: the error is the check's own


def test_a_generic_property_outside_a_learner_facing_check_stops_the_chain_at_once() -> None:
    chain = Chain("value")
    with pytest.raises(CheckFailed) as failure:
        chain.require(False, "the default is 10", observed="it is 5", hint="keep it", generic=True)
    assert failure.value.prop == "the default is 10"


def test_the_notebook_traceback_of_a_failure_shows_only_the_learners_frames() -> None:
    def learners_cell() -> None:
        check_three_things(99)

    with pytest.raises(CheckFailed) as failure:
        learners_cell()
    full = [frame.tb_frame.f_code.co_name for frame in walk_tb(failure.value.__traceback__)]
    shown = [frame.tb_frame.f_code.co_name for frame in walk_tb(learner_frames(failure.value.__traceback__))]
    assert "wrapper" in full and shown == [name for name in full if name != "wrapper"]
    assert shown[-1] == "learners_cell"


def walk_tb(tb: TracebackType | None) -> list[TracebackType]:
    frames = []
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    return frames


def test_a_cell_that_needs_an_exercise_says_which_instead_of_running(capsys: pytest.CaptureFixture[str]) -> None:
    assert unfinished(HalfDone) == ["HalfDone.run", "HalfDone.make"], "an optional private helper does not count"
    assert not exercise_done("exercise 2", HalfDone)
    assert capsys.readouterr().out == (
        "This cell runs your code from exercise 2, and `HalfDone.run`, `HalfDone.make` still raise "
        "NotImplementedError: do exercise 2 first, then run this cell again.\n"
    )

    def written() -> int:
        return 1

    assert exercise_done("exercise 1", written) and capsys.readouterr().out == ""
