"""Every chapter's checks fail, as intended, on each wrong implementation, in-process.

Each wrong implementation (a patch of the reference, read by tests/wrong_cases.py) is tested
twice: its ``EXPECT``'d check, called directly, fails with the intended property, observation
and hint; and in the chapter's notebook, a graded cell that uses it fails with that property
(the cell nbgrader would score 0). The nbgrader round trip (tests/test_nbgrader_roundtrip.py)
grades a representative few for real.

And every diff applies to the reference as it is now and changes at least one top-level function
or class, so an edit of the reference that breaks a patch fails, naming the file and the hunk. The
applier takes no fuzz: a hunk moves with the lines around it, and stops where its lines are gone."""

from __future__ import annotations

import contextlib
import functools
import io
import linecache
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import pytest

from coursekit import chapters
from coursekit.checks import CheckFailed
from tests.graded_cells import defined_names, graded_cell_failure, graded_cells_using
from tests.wrong_cases import (
    FOLDER,
    PatchError,
    WrongCase,
    changed_statements,
    diff_of,
    patched,
    wrong_case,
    wrong_cases,
)
from tools.chapter_source import chapters_by_topic

CASES = wrong_cases()
BY_TOPIC = chapters_by_topic()
cases_param = pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)


def load_wrong(case: WrongCase) -> tuple[dict[str, Any], ModuleType]:
    """Run a wrong solution cell in the namespace of its chapter's reference module."""
    return case.names(), chapters.part(case.topic, "checks")


def subject_of(check_name: str) -> str:
    """check_run_pipeline_cancelled -> run_pipeline: the function a check exercises."""
    return check_name.removeprefix("check_").removesuffix("_cancelled").removesuffix("_failure")


def test_there_are_at_least_five_wrong_implementations_per_chapter() -> None:
    topics = {case.topic for case in CASES}
    assert topics, "no wrong implementations found"
    for topic in topics:
        count = sum(1 for case in CASES if case.topic == topic)
        assert count >= 5, f"{topic}: only {count} wrong implementations"


@functools.cache
def failure_of(case: WrongCase) -> CheckFailed | None:
    """What the case's ``EXPECT``'d check, called directly, raised (None: it passed); run once per
    test run, for the tests below that read it (what it prints is not kept)."""
    namespace, checks = load_wrong(case)
    expect = case.expect
    check = getattr(checks, expect["check"])
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            check(namespace[expect.get("subject", subject_of(expect["check"]))], **expect.get("args", {}))
        except CheckFailed as failure:
            return failure
    return None


@cases_param
def test_wrong_implementation_fails_with_intended_message(case: WrongCase) -> None:
    failure, expect = failure_of(case), case.expect
    assert failure is not None, f"{expect['check']} passed"
    assert failure.prop.endswith(expect["property"]), str(failure)  # after the scenario, if named
    assert expect["observed"] in failure.observed, str(failure)
    assert expect.get("hint", "") in failure.hint, str(failure)


HINTED_SHARE = 0.9  # of every wrong implementation: declares the hint it must get, and gets it (issue 21)


def test_nine_in_ten_wrong_implementations_get_the_hint_that_names_their_bug(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A wrong implementation's ``EXPECT["hint"]`` is a fragment of the hint that points at its bug;
    each one that declares it must get it (the test above). This keeps the share that declare it:
    a case without one is counted as told about something else."""
    declared = [case.id for case in CASES if case.expect.get("hint")]
    share = len(declared) / len(CASES)
    with capsys.disabled():
        print(f"\n{len(declared)} of {len(CASES)} wrong implementations declare the hint they get ({share:.0%})")
    missing = sorted(case.id for case in CASES if not case.expect.get("hint"))
    assert share >= HINTED_SHARE, f"{share:.0%} declare their hint, under {HINTED_SHARE:.0%}; without one: {missing}"


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


@cases_param
def test_wrong_implementation_message_reads_well(case: WrongCase) -> None:
    """The message names the scenario (the check's call), repeats no prefix, and never prints the
    observed value equal to the expected one."""
    failure, expect = failure_of(case), case.expect
    assert failure is not None, f"{expect['check']} passed"
    assert failure.scenario is not None and failure.scenario.startswith(f"{expect['check']}("), (
        f"the message names no scenario:\n{failure}"
    )
    headline = str(failure).splitlines()[0]
    assert repeated_prefix(headline) is None, f"a prefix is repeated in: {headline}"
    assert not same_as_printed(failure.observed), (
        f"observed and expected print the same: {same_as_printed(failure.observed)}"
    )


@cases_param
def test_wrong_implementation_fails_a_graded_cell_as_intended(
    case: WrongCase, capsys: pytest.CaptureFixture[str]
) -> None:
    """In its chapter's notebook, some graded cell that uses the wrong code fails with the intended
    property, as that cell does when nbgrader grades it (scoring 0)."""
    chapter = BY_TOPIC[case.topic]
    notebook = nbformat.read(chapter.notebook, as_version=4)
    cells = graded_cells_using(notebook, defined_names(case.code))
    assert cells, f"no graded cell of {chapter.notebook.name} uses {sorted(defined_names(case.code))}"
    expect = case.expect
    failures = []
    for cell in cells:
        failure = graded_cell_failure(chapter, notebook, cell, case.code, case.filename)
        if isinstance(failure, CheckFailed):
            failures.append(failure)
            if failure.prop.endswith(expect["property"]):
                return
        elif failure is not None:
            raise failure
    raise AssertionError(
        f"no graded cell failed with '{expect['property']}'; they failed with: {[str(f) for f in failures]}"
    )


def test_every_file_of_the_folder_is_a_case() -> None:
    others = sorted(
        str(path.relative_to(FOLDER))
        for path in FOLDER.rglob("*")
        if path.is_file() and path.suffix != ".diff" and path.name != "README.md"
    )
    assert not others, f"files tests/wrong_cases.py does not read (a case is a .diff): {others}"


@cases_param
def test_diff_applies_and_changes_a_definition(case: WrongCase) -> None:
    assert case.description and "TODO" not in case.description, f"{case.path}: say what the bug is"
    assert defined_names(case.code), f"{case.path}: the diff changes no top-level function or class"


REFERENCE = "import asyncio\n\n\ndef first():\n    return 1\n\n\ndef second():\n    return 2\n"
EDITED = REFERENCE.replace("return 2", "return 3")


def case_file(tmp_path: Path, diff: str) -> Path:
    path = tmp_path / "topic" / "case.diff"
    path.parent.mkdir()
    path.write_text(f"What is wrong.\n\nEXPECT = {{'check': 'check_second'}}\n\n{diff}", encoding="utf-8")
    return path


def made_diff(reference: str, edited: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr("tests.wrong_cases.reference_source", lambda topic, revision=None: reference)
    return diff_of("topic", edited)


def test_a_hunk_follows_its_lines_when_the_reference_grows_above_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = case_file(tmp_path, made_diff(REFERENCE, EDITED, monkeypatch))
    case = wrong_case(path)
    assert (case.id, case.description, case.expect) == ("topic/case", "What is wrong.", {"check": "check_second"})
    grown = REFERENCE.replace("import asyncio\n", "import asyncio\nimport time\n\nLIMIT = 3\n")
    diff = path.read_text(encoding="utf-8").partition("\n\n--- ")[2]
    result = patched(grown, "--- " + diff, "topic", path)
    assert result == grown.replace("return 2", "return 3")
    assert changed_statements(grown, result, path) == "def second():\n    return 3\n"


def test_the_code_runs_under_a_name_whose_lines_tracebacks_quote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = wrong_case(case_file(tmp_path, made_diff(REFERENCE, EDITED, monkeypatch)))
    monkeypatch.setattr("tests.wrong_cases.reference_source", lambda topic, revision=None: REFERENCE)
    assert case.code == "def second():\n    return 3\n"
    assert linecache.getline(case.filename, 2) == "    return 3\n"


def test_a_hunk_whose_lines_changed_stops_with_the_file_and_the_hunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = case_file(tmp_path, made_diff(REFERENCE, EDITED, monkeypatch))
    diff = "--- " + path.read_text(encoding="utf-8").partition("\n\n--- ")[2]
    with pytest.raises(
        PatchError, match=rf"{re.escape(str(path))}: hunk @@ -\d+,\d+ \+\d+,\d+ @@ does not apply to solutions/topic.py"
    ):
        patched(REFERENCE.replace("def second():", "def second(x):"), diff, "topic", path)


def test_a_hunk_that_lost_a_line_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    diff = made_diff(REFERENCE, EDITED, monkeypatch)
    cut = "".join(line for line in diff.splitlines(keepends=True) if line != "-    return 2\n")
    with pytest.raises(PatchError, match="announces"):
        patched(REFERENCE, cut, "topic", case_file(tmp_path, cut))


def test_only_the_changed_and_new_statements_make_the_cell() -> None:
    edited = REFERENCE.replace("import asyncio\n", "import asyncio\nimport time\n") + "\n\nclass Extra:\n    pass\n"
    cell = changed_statements(REFERENCE, edited.replace("return 1", "return time.time()"), Path("x.diff"))
    assert cell == "import time\n\n\ndef first():\n    return time.time()\n\n\nclass Extra:\n    pass\n"
