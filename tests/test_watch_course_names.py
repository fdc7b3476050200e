"""The run-time watch knows every name a chapter's locked cells bind, magics or not: so rebinding a
check from an answer cell is flagged in every chapter, not only where the checks are imported in a
cell of their own (a setup cell that starts with ``%matplotlib inline`` used to yield no name)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from autograder.chapters import select_chapters
from autograder.grading import grade_submission
from autograder.inside.watch import bound_names
from autograder.sandbox import DEFAULT_LIMITS
from tests.course_copy import released_course
from tests.hostile_submissions import solved
from tools.chapter_source import Chapter, chapters


def locked_setup_cells(chapter: Chapter) -> list[str]:
    notebook = nbformat.read(chapter.notebook, as_version=4)
    return [
        cell.source
        for cell in notebook.cells
        if cell.cell_type == "code"
        and cell.metadata.get("nbgrader", {}).get("locked")
        and not cell.metadata.get("nbgrader", {}).get("grade")
    ]


@pytest.mark.parametrize("chapter", chapters(), ids=lambda chapter: chapter.assignment)
def test_every_check_a_chapter_imports_is_a_protected_name(chapter: Chapter) -> None:
    setup = locked_setup_cells(chapter)
    imported = {name for source in setup for name in re.findall(r"\b(check_\w+)", source)}
    assert imported, f"{chapter.assignment} imports no check in a locked cell"
    everything = dict.fromkeys(imported | {"exercise_done"}, object())
    protected = {name for source in setup for name in bound_names(source, everything)}
    assert imported <= protected, f"unprotected: {sorted(imported - protected)}"


def test_a_magic_line_does_not_hide_the_names_after_it() -> None:
    source = "%matplotlib inline\nimport asyncio\nfrom coursekit.checks import Chain as C\nlimit = 3\n"
    namespace = {"asyncio": 1, "C": 2, "limit": 3}
    assert bound_names(source, namespace) == ["C", "asyncio", "limit"]
    assert bound_names("this is not python(", namespace) == []


@pytest.mark.slow
def test_rebinding_a_check_of_chapter_1_is_flagged_for_review(tmp_path: Path) -> None:
    """End to end, in the sandbox: an answer cell of chapter 1 (whose setup cell starts with a magic)
    replaces the check its exercise is graded by."""
    chapter = select_chapters(["ch01_producer_consumer"])[0]
    _, kit = released_course(tmp_path, chapter.source)
    notebook = solved(chapter.notebooks[0])
    answer = next(cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("solution"))
    answer.source += "\n\ncheck_consumer = lambda *args, **kwargs: None\n"
    report = grade_submission(kit, "cheat.ipynb", nbformat.writes(notebook).encode(), DEFAULT_LIMITS).report
    assert any("rebinds `check_consumer`" in evidence for evidence in report.review), report.render()
