"""Grading needs no answers: each chapter's reference submission scores full marks and a wrong one
partial credit, graded in the sandbox, whose read-only view holds only the interpreter and its
packages, `coursekit`, `autograder.inside`, the chapter's release and the submission, so
`solutions/` and `notebooks/` can be neither imported nor read there (the hostile corpus's probes
check that they are absent).

Nothing a chapter ships imports `solutions` (tests/test_answers_kept_apart.py), so every chapter
must pass. The chapters are released and graded once for all tests, two per core at a time.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.chapters import COURSE_DIR, Chapter, find_chapters
from autograder.grading import grade_submission
from autograder.kit import load_kit
from autograder.release import ensure_released
from autograder.report import GradeReport
from autograder.sandbox import Limits
from tests.hostile_submissions import meta, solved
from tests.per_chapter import outcome_of, per_chapter

pytestmark = pytest.mark.slow  # left out by `course.py test --quick`

CHAPTERS = find_chapters()
LIMITS = Limits(cell_seconds=120, wall_seconds=900)


def grade_right_and_wrong(chapter: Chapter, root: Path) -> tuple[GradeReport, GradeReport]:
    """Release ``chapter`` in a course of its own under ``root``; grade the reference, then the
    reference with its last exercise left as released."""
    (root / "autograder").mkdir(parents=True)
    shutil.copy2(COURSE_DIR / "nbgrader_config.py", root / "autograder")
    shutil.copytree(chapter.source, root / "notebooks" / chapter.assignment)
    copied = Chapter(chapter.assignment, root / "notebooks" / chapter.assignment)
    ensure_released([copied], root / "autograder")
    kit = load_kit(copied, root / "autograder")
    source = chapter.notebooks[0]
    right, wrong = solved(source), solved(source)
    release = nbformat.read(root / "autograder" / "release" / chapter.assignment / source.name, as_version=4)
    stubs = {meta(c)["grade_id"]: c.source for c in release.cells if meta(c).get("solution")}
    last = [c for c in wrong.cells if meta(c).get("grade_id") in stubs][-1]
    last.source = stubs[meta(last)["grade_id"]]
    graded = [
        grade_submission(kit, f"{who}/{source.name}", nbformat.writes(notebook).encode(), LIMITS).report
        for who, notebook in (("right", right), ("wrong", wrong))
    ]
    return graded[0], graded[1]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[GradeReport, GradeReport] | BaseException]:
    """Assignment -> (the reference's report, the wrong answer's), or the error that stopped it."""
    return per_chapter(grade_right_and_wrong, CHAPTERS, tmp_path_factory.mktemp("without-answers"))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.assignment)
def test_reference_scores_full_and_a_wrong_answer_partial_without_the_answers(
    chapter: Chapter, reports: dict[str, tuple[GradeReport, GradeReport] | BaseException]
) -> None:
    right, wrong = outcome_of(reports, chapter)
    assert right.score == right.max_score > 0, right.render()
    assert 0 < wrong.score < wrong.max_score, wrong.render()
    assert not right.review, right.render()
