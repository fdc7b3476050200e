"""A hostile class: every corpus case (tests/hostile_submissions/) is a learner, graded in one
`grade-all` batch beside two honest learners, in a course with an exchange.

The batch must finish and:
- every case gets its score, its reason, and its review flag (or none);
- the honest learners' scores are what they are alone (6 and 3);
- the exchange, the honest learners' files and the repository are unchanged;
- nothing the corpus left (files in /tmp and /dev/shm, processes) outlives the batch;
- no feedback page shows a hidden test line or anything of the grader's environment.
Short limits keep it quick: 5 s a cell, 60 s a notebook.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest

from autograder.batch import StudentResult, grade_chapter, summary_table
from autograder.chapters import COURSE_DIR, REPO_ROOT, select_chapters
from autograder.kit import HIDDEN
from autograder.record import FORMULA_STARTS, inert_in_spreadsheets
from autograder.release import ensure_released
from autograder.sandbox import Limits
from tests.grading_leftovers import left_since, present
from tests.hostile_submissions import ANY, CASES, CHAPTER, SOURCE, Case, solved, solved_bytes

pytestmark = [pytest.mark.slow, pytest.mark.every_core]  # slow: left out by `course.py test --quick`

LIMITS = Limits(cell_seconds=5, wall_seconds=60)
HONEST = {"honest-full": 6.0, "honest-partial": 3.0}
REFUSED = {".dotted": "starts with a dot", "star*id": "as a pattern", "comma,id": "as a pattern or a list"}
# Active content a learner's output could carry into a page: a tag that runs something (escaped text does not).
TAG = re.compile(r"<[a-zA-Z][^>]*>")
ACTIVE = re.compile(r"^<(script|iframe|object|embed)\b|\son[a-z]+\s*=|javascript:", re.I)
LEFT: list[str] = []  # what the batch left running or on disk (tests/grading_leftovers.py)
PEAK: list[int] = []  # the grading process's peak resident memory during the batch, bytes
# The bound stated in the README: grading this class (83 learners, four at a time, each result
# capped at 32 MB and its outputs at 4 MB) keeps the grader's resident memory under it (280 MB measured).
GRADER_PEAK_BOUND = 768 * 1024**2
CANARY = "grader-secret-5d1c"  # in the grader's environment while it grades; no sandbox may see it


def learner(case: Case) -> str:
    return f"hostile-{CASES.index(case):02d}"


def fingerprint(*roots: Path) -> dict[str, str]:
    files = [path for root in roots for path in ([root] if root.is_file() else sorted(root.rglob("*")))]
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in files if path.is_file()}


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile-class")
    course = root / "autograder"
    course.mkdir()
    shutil.copy2(COURSE_DIR / "nbgrader_config.py", course)
    shutil.copytree(SOURCE.parent, root / "notebooks" / CHAPTER)
    partial = solved()
    answer = next(c for c in partial.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ch00-fetch-all")
    answer.source = "async def fetch_all(delays):\n    return 0.0\n"
    honest = {"honest-full": nbformat.writes(solved()).encode(), "honest-partial": nbformat.writes(partial).encode()}
    refused = ((student, solved_bytes()) for student in REFUSED)
    for student, data in [*honest.items(), *((learner(case), case.make()) for case in CASES), *refused]:
        folder = course / "submitted" / student / CHAPTER
        folder.mkdir(parents=True)
        (folder / SOURCE.name).write_bytes(data)
    outbound = course / "exchange" / "asyncio-course" / "outbound" / CHAPTER
    outbound.mkdir(parents=True)
    shutil.copy2(SOURCE, outbound / SOURCE.name)
    ensure_released(select_chapters([CHAPTER]), course)
    return course


@pytest.fixture(scope="module")
def graded(course: Path) -> dict[str, StudentResult]:
    protected = [
        course / "exchange",
        course / "submitted" / "honest-full",
        course / "submitted" / "honest-partial",
        REPO_ROOT / "notebooks",
        REPO_ROOT / "solutions",
        REPO_ROOT / "coursekit",
    ]
    before = fingerprint(*protected)
    running = present()
    Path("/proc/self/clear_refs").write_text("5")  # from here, VmHWM is this batch's peak
    started = time.perf_counter()
    os.environ["COURSE_GRADER_CANARY"] = CANARY
    try:
        results = grade_chapter(CHAPTER, course_dir=course, limits=LIMITS, progress=False)
    finally:
        del os.environ["COURSE_GRADER_CANARY"]
    print(f"\ngraded {len(results)} learners in {time.perf_counter() - started:.0f} s\n{summary_table(results)}")
    assert fingerprint(*protected) == before, "grading changed the exchange, an honest learner's files or the sources"
    LEFT.extend(left_since(running))
    PEAK.append(peak_memory())
    return {result.student: result for result in results}


def test_honest_learners_keep_their_scores(graded: dict[str, StudentResult]) -> None:
    assert {student: graded[student].report.score for student in HONEST} == HONEST
    assert not any(graded[student].report.review or graded[student].problem for student in HONEST)


def test_every_learner_is_graded_once_and_nothing_else(graded: dict[str, StudentResult], course: Path) -> None:
    from nbgrader.api import Gradebook

    assert set(graded) == {*HONEST, *map(learner, CASES), *REFUSED}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assert {student.id for student in gradebook.students} == set(graded) - set(REFUSED)
        for student, result in graded.items():
            if student not in REFUSED:
                assert gradebook.find_submission(CHAPTER, student).score == result.report.score, student
                assert result.not_recorded is None, f"{student}: {result.not_recorded}"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_case_gets_its_score_reason_and_review(case: Case, graded: dict[str, StudentResult]) -> None:
    report = graded[learner(case)].report
    print(report.render())
    assert report.max_score == 6
    if case.score != ANY:
        assert report.score == case.score
    reasons = " ".join([report.problem or "", *(test.message for test in report.tests)])
    assert case.reason in reasons
    if not case.reason:
        assert report.problem is None
    evidence = " ".join(report.review)
    assert case.review in evidence if case.review else not report.review


@pytest.mark.parametrize("student", REFUSED)
def test_an_id_grading_cannot_carry_is_refused_with_its_reason(
    student: str, graded: dict[str, StudentResult], course: Path
) -> None:
    import csv

    report = graded[student].report
    assert report.score == 0 and REFUSED[student] in (report.problem or ""), report.render()
    with (course / "grades.csv").open(newline="") as file:
        rows = {row["student_id"]: row for row in csv.DictReader(file)}
    assert rows[student]["score"] == "0.0" and rows[student]["for_review"] == "yes"
    assert REFUSED[student] in rows[student]["review_evidence"]


def peak_memory() -> int:
    """This process's peak resident memory since ``clear_refs`` was last reset (``VmHWM``), bytes."""
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM"))
    return int(line.split()[1]) * 1024


def test_the_grader_stays_under_its_memory_bound(graded: dict[str, StudentResult]) -> None:
    print(f"the grader's peak resident memory during the batch: {PEAK[0] / 1024**2:.0f} MB")
    assert PEAK[0] < GRADER_PEAK_BOUND


def test_nothing_outlives_the_batch(graded: dict[str, StudentResult]) -> None:
    assert LEFT == []


def active_tags(page: str) -> set[str]:
    return {tag for tag in TAG.findall(page) if ACTIVE.search(tag)}


def test_no_feedback_shows_a_secret(graded: dict[str, StudentResult], course: Path) -> None:
    hidden = {
        line.strip()
        for cell in nbformat.read(SOURCE, as_version=4).cells
        for block in HIDDEN.findall(cell.source)
        for line in block.splitlines()
        if line.strip()
    }
    secrets = hidden | {"PYTEST_CURRENT_TEST", CANARY}
    assert hidden
    pages = {
        student: (course / "feedback" / student / CHAPTER / SOURCE.name.replace(".ipynb", ".html")).read_text()
        for student in sorted(set(graded) - set(REFUSED))
    }
    page_template = active_tags(pages["honest-full"])  # the page's own scripts (MathJax), in every page
    for student, raw in pages.items():
        text = html.unescape(re.sub(r"<[^>]*>", "", raw))
        assert not [secret for secret in secrets if secret in text], student
        active = active_tags(raw) - page_template
        assert not active, f"{student}'s feedback page holds active content: {sorted(active)[:3]}"


def test_grades_csv_marks_flagged_learners_for_review(graded: dict[str, StudentResult], course: Path) -> None:
    import csv

    with (course / "grades.csv").open(newline="") as file:
        rows = {row["student_id"]: row for row in csv.DictReader(file)}
    for student, result in graded.items():
        if student in REFUSED:
            continue
        assert rows[student]["for_review"] == ("yes" if result.report.review else "no"), student
        assert rows[student]["review_evidence"] == inert_in_spreadsheets(" | ".join(result.report.review)), student
        assert not rows[student]["review_evidence"].startswith(FORMULA_STARTS), student
