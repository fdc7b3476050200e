"""Every chapter's checks fail, as intended, on each wrong implementation, in-process.

Each wrong implementation is tested twice: its ``EXPECT``'d check, called directly, fails
with the intended property, observation and hint; and in the chapter's notebook, a graded
cell that uses it fails with that property (the cell nbgrader would score 0). The nbgrader
round trip (tests/test_nbgrader_roundtrip.py) grades a representative few for real."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import pytest

from coursekit.checks import CheckFailed
from tests.graded_cells import defined_names, graded_cells_using, graded_namespace, run_cell
from tools.chapter_source import chapters_by_topic

WRONG = Path(__file__).parent / "wrong_implementations"
CASES = sorted(path for path in WRONG.glob("*/*.py"))
BY_TOPIC = chapters_by_topic()


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


def repeated_prefix(headline: str) -> str | None:
    """A part of ``a: b: c`` that is the same as the part before it ("job 4: job 4: ...")."""
    parts = headline.split(": ")
    return next((part for before, part in zip(parts, parts[1:], strict=False) if part == before), None)


def same_as_printed(observed: str) -> list[str]:
    """Each "... X, expected X" of ``observed``: the value shown as seen prints as the expected one."""
    found = []
    for match in re.finditer(r", expected (?P<expected>[^;\n]+)", observed):
        expected, before = match.group("expected").strip().rstrip("."), observed[: match.start()]
        if before.endswith(expected) and not re.search(r"[\w.\-]$", before[: len(before) - len(expected)]):
            found.append(f"{before[-len(expected) - 20 :]}{match.group(0)}")
    return found


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_wrong_implementation_message_reads_well(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The message names the scenario (the check's call), repeats no prefix, and never prints the
    observed value equal to the expected one."""
    namespace, checks = load_wrong(path)
    expect = namespace["EXPECT"]
    with pytest.raises(CheckFailed) as caught:
        getattr(checks, expect["check"])(
            namespace[expect.get("subject", subject_of(expect["check"]))], **expect.get("args", {})
        )
    failure = caught.value
    assert failure.scenario is not None and failure.scenario.startswith(f"{expect['check']}("), (
        f"the message names no scenario:\n{failure}"
    )
    headline = str(failure).splitlines()[0]
    assert repeated_prefix(headline) is None, f"a prefix is repeated in: {headline}"
    assert not same_as_printed(failure.observed), (
        f"observed and expected print the same: {same_as_printed(failure.observed)}"
    )


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_wrong_implementation_fails_a_graded_cell_as_intended(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """In its chapter's notebook, some graded cell that uses the wrong code fails with the intended
    property, as that cell does when nbgrader grades it (scoring 0)."""
    chapter = BY_TOPIC[path.parent.name]
    notebook = nbformat.read(chapter.notebook, as_version=4)
    code = path.read_text(encoding="utf-8")
    cells = graded_cells_using(notebook, defined_names(code))
    assert cells, f"no graded cell of {chapter.notebook.name} uses {sorted(defined_names(code))}"
    expect = load_wrong(path)[0]["EXPECT"]
    failures = []
    for cell in cells:
        try:
            run_cell(chapter, cell, graded_namespace(chapter, notebook, code, str(path)))
        except CheckFailed as failure:
            failures.append(failure)
            if failure.prop.endswith(expect["property"]):
                return
    raise AssertionError(
        f"no graded cell failed with '{expect['property']}'; they failed with: {[str(f) for f in failures]}"
    )
