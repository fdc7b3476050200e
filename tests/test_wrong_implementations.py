"""Every chapter's checks pass on the reference and fail, as intended, on each wrong implementation."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from coursekit.checks import CheckFailed

WRONG = Path(__file__).parent / "wrong_implementations"
CASES = sorted(path for path in WRONG.glob("*/*.py"))


def load_wrong(path: Path) -> tuple[dict[str, Any], ModuleType]:
    """Run a wrong solution cell in the namespace of its chapter's reference module."""
    topic = path.parent.name
    namespace = dict(vars(importlib.import_module(f"solutions.{topic}")))
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace, importlib.import_module(f"coursekit.chapter_checks.{topic}")


def subject_of(check_name: str) -> str:
    """check_run_pipeline_cancelled -> run_pipeline: the function a check exercises."""
    return check_name.removeprefix("check_").removesuffix("_cancelled").removesuffix("_failure")


def test_there_are_at_least_five_wrong_implementations_per_chapter() -> None:
    topics = {path.parent.name for path in CASES}
    assert topics, "no wrong implementations found"
    for topic in topics:
        count = sum(1 for path in CASES if path.parent.name == topic)
        assert count >= 5, f"{topic}: only {count} wrong implementations"


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_wrong_implementation_fails_with_intended_message(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    namespace, checks = load_wrong(path)
    expect = namespace["EXPECT"]
    check = getattr(checks, expect["check"])
    with pytest.raises(CheckFailed) as failure:
        check(namespace[expect.get("subject", subject_of(expect["check"]))], **expect.get("args", {}))
    assert failure.value.prop.endswith(expect["property"]), str(failure.value)  # after the scenario, if named
    assert expect["observed"] in failure.value.observed, str(failure.value)
    assert expect.get("hint", "") in failure.value.hint, str(failure.value)
