"""Broken and hostile submissions are graded with a score and a clear reason, and nothing is lost.

The corpus is in tests/hostile_submissions/. All of it is graded in one batch (two
workers, sandboxed kernels, short limits: 15 s a cell, 60 s a notebook); the batch must
finish, every case must get its intended score and reason, and the real course
directory (gradebook, sources) must be unchanged afterwards.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from autograder.chapters import COURSE_DIR, REPO_ROOT
from autograder.grading import GradeReport, grade_files
from tests.hostile_submissions import CASES, CHAPTER, Case

CELL_SECONDS, WALL_SECONDS = 15, 60


def fingerprint(paths: list[Path]) -> dict[str, str | None]:
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None for path in paths}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, GradeReport]:
    folder = tmp_path_factory.mktemp("corpus")
    paths = []
    for number, case in enumerate(CASES):
        path = folder / f"{number:02d}.ipynb"
        path.write_bytes(case.make())
        paths.append(path)
    protected = [
        *(REPO_ROOT / "notebooks" / CHAPTER).glob("*.ipynb"),
        COURSE_DIR / "nbgrader_config.py",
        COURSE_DIR / "gradebook.db",
    ]
    before = fingerprint(protected)
    started = time.perf_counter()
    reports = grade_files(paths, CHAPTER, workers=2, cell_seconds=CELL_SECONDS, wall_seconds=WALL_SECONDS)
    print(f"\ngraded {len(paths)} hostile submissions in {time.perf_counter() - started:.0f} s")
    assert fingerprint(protected) == before, "grading the corpus changed the course's sources, config or gradebook"
    return {case.name: report for case, report in zip(CASES, reports)}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_case_gets_its_intended_score_and_reason(case: Case, graded: dict[str, GradeReport]) -> None:
    report = graded[case.name]
    print(f"{case.name}: {report.score:g}/{report.max_score:g} — {report.problem or ''}")
    assert report.max_score == 6, report.render()
    assert report.score == case.score, report.render()
    reasons = " ".join([report.problem or "", *(test.message for test in report.tests)])
    assert case.reason in reasons, report.render()
    if not case.reason:
        assert report.problem is None, report.render()
