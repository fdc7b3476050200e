"""The check chain: ✓ lines while properties hold, one structured message at the first failure."""

from __future__ import annotations

import asyncio

import pytest

from coursekit import run_virtual
from coursekit.checks import Chain, CheckFailed, describe_error, learner_facing


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
