"""Grading needs no answers (issue 7.3): each chapter's reference submission scores full marks and a
wrong one partial credit, graded in the sandbox, whose read-only view holds only the interpreter and
its packages, `coursekit`, `autograder.inside`, the chapter's release and the submission, so
`solutions/` and `notebooks/` can be neither imported nor read there (the hostile corpus's probes
check that they are absent).

Nothing a chapter ships imports `solutions` (tests/test_answers_kept_apart.py), so every chapter
must pass.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.batch import grade_all
from autograder.chapters import COURSE_DIR, Chapter, find_chapters
from autograder.kit import load_kit
from autograder.sandbox import Limits
from tests.hostile_submissions import meta, solved

pytestmark = pytest.mark.slow  # left out by `course.py test --quick`


@pytest.mark.parametrize("chapter", find_chapters(), ids=lambda chapter: chapter.assignment)
def test_reference_scores_full_and_a_wrong_answer_partial_without_the_answers(chapter: Chapter, tmp_path: Path) -> None:
    (tmp_path / "autograder").mkdir()
    shutil.copy2(COURSE_DIR / "nbgrader_config.py", tmp_path / "autograder")
    shutil.copytree(chapter.source, tmp_path / "notebooks" / chapter.assignment)
    kit = load_kit(Chapter(chapter.assignment, tmp_path / "notebooks" / chapter.assignment), tmp_path / "autograder")
    source = chapter.notebooks[0]
    right, wrong = solved(source), solved(source)
    release = nbformat.read(tmp_path / "autograder" / "release" / chapter.assignment / source.name, as_version=4)
    stubs = {meta(c)["grade_id"]: c.source for c in release.cells if meta(c).get("solution")}
    last = [c for c in wrong.cells if meta(c).get("grade_id") in stubs][-1]
    last.source = stubs[meta(last)["grade_id"]]  # the last exercise left as released
    graded = grade_all(
        kit,
        {"right": nbformat.writes(right).encode(), "wrong": nbformat.writes(wrong).encode()},
        limits=Limits(cell_seconds=120, wall_seconds=900),
        workers=2,
    )
    right_report, wrong_report = graded["right"].report, graded["wrong"].report
    assert right_report.score == right_report.max_score > 0, right_report.render()
    assert 0 < wrong_report.score < wrong_report.max_score, wrong_report.render()
    assert not right_report.review, right_report.render()
