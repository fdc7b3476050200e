"""`python -m autograder grade-all`: collect the latest submissions, grade each in its own sandbox
on a local Dask cluster, record them in the gradebook with `nbgrader autograde --no-execute`, give
feedback, export grades.csv; rerunning it, or grading one at a time, gives the same grades; a
broken notebook costs only its own grade."""

from __future__ import annotations

import csv
import html
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.batch import grade_chapter, summary_table
from autograder.chapters import COURSE_DIR, select_chapters
from autograder.grading import invalid_text
from autograder.kit import NotReleased
from autograder.record import recording
from autograder.release import ensure_released
from autograder.report import Graded, zero_report
from tests.course_copy import released_course
from tests.hostile_submissions import CHAPTER, SOURCE, solved

pytestmark = pytest.mark.slow  # left out by `course.py test --quick`

NOTEBOOK = SOURCE.name
EXPECTED = {"alice": 6.0, "bob": 0.0, "carol": 0.0, "dan": 6.0}


def inbound(course: Path, student: str, timestamp: str, notebook: nbformat.NotebookNode) -> Path:
    """A submission in the exchange, as `nbgrader submit` leaves it."""
    folder = course / "exchange" / "asyncio-course" / "inbound" / f"{student}+{CHAPTER}+{timestamp}+abc"
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / NOTEBOOK)
    (folder / "timestamp.txt").write_text(timestamp)
    return folder


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("batch")
    course = root / "autograder"
    course.mkdir()
    shutil.copy2(COURSE_DIR / "nbgrader_config.py", course)
    shutil.copytree(SOURCE.parent, root / "notebooks" / CHAPTER)
    by_hand = {"alice": nbformat.writes(solved()).encode(), "bob": b""}
    crashing = solved()
    answer = next(cell for cell in crashing.cells if cell.metadata.get("nbgrader", {}).get("solution"))
    answer.source += "\nimport os\nos._exit(1)"
    by_hand["carol"] = nbformat.writes(crashing).encode()
    for student, data in by_hand.items():
        folder = course / "submitted" / student / CHAPTER
        folder.mkdir(parents=True)
        (folder / NOTEBOOK).write_bytes(data)
    unsolved = nbformat.read(SOURCE, as_version=4)
    for cell in unsolved.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "async def countdown(n, delay):\n    raise NotImplementedError()\n"
    inbound(course, "dan", "2026-11-20 10:00:00.000000 UTC", unsolved)  # the earlier try
    inbound(course, "dan", "2026-11-21 09:30:00.000000 UTC", solved())  # the latest
    ensure_released(select_chapters([CHAPTER]), course)
    return course


def test_grading_a_chapter_without_a_current_release_is_refused(tmp_path: Path) -> None:
    """Releasing is a step of its own: grade-all never changes the tests learners were given."""
    shutil.copy2(COURSE_DIR / "nbgrader_config.py", tmp_path)
    inbound(tmp_path, "lee", "2026-11-21 09:30:00.000000 UTC", solved())
    with pytest.raises(NotReleased, match=rf"{CHAPTER} has no current release .* `python -m autograder release"):
        grade_chapter(CHAPTER, course_dir=tmp_path, progress=False)
    assert not (tmp_path / "release").exists() and not (tmp_path / "submitted").exists()


@pytest.fixture(scope="module")
def parallel(course: Path) -> tuple[list, str]:
    graded_order: list[str] = []
    results = grade_chapter(CHAPTER, course_dir=course, workers=2, progress=False, on_graded=graded_order.append)
    assert sorted(graded_order) == sorted(EXPECTED), "the progress callback runs once per learner"
    return results, (course / "grades.csv").read_text()


def test_each_learner_gets_their_grade_and_reason(parallel: tuple[list, str]) -> None:
    results, _ = parallel
    print(summary_table(results))
    assert {r.student: r.report.score for r in results} == EXPECTED
    reasons = {r.student: r.report.problem for r in results}
    assert "empty" in reasons["bob"] and "your code ended the Python kernel" in reasons["carol"]
    assert "exit status 1" in reasons["carol"]
    assert reasons["alice"] is None and reasons["dan"] is None


def test_the_latest_submission_is_graded_and_earlier_ones_are_kept(course: Path, parallel: tuple[list, str]) -> None:
    submitted = nbformat.read(course / "submitted" / "dan" / CHAPTER / NOTEBOOK, as_version=4)
    assert "NotImplementedError" not in "".join(
        c.source for c in submitted.cells if c.metadata.get("nbgrader", {}).get("solution")
    )
    assert len(list((course / "exchange" / "asyncio-course" / "inbound").glob("dan+*"))) == 2


def test_grades_csv_and_gradebook_agree(parallel: tuple[list, str]) -> None:
    _, csv = parallel
    rows = [line.split(",") for line in csv.strip().splitlines()]
    header = rows[0]
    scores = {row[header.index("student_id")]: float(row[header.index("score")]) for row in rows[1:]}
    assert scores == EXPECTED
    assert {row[header.index("for_review")] for row in rows[1:]} == {"no"}


def test_the_gradebook_holds_the_scores_grading_computed(course: Path, parallel: tuple[list, str]) -> None:
    """`nbgrader autograde --no-execute` records the sandbox's executed notebooks without drift."""
    from nbgrader.api import Gradebook

    results, _ = parallel
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for result in results:
            submission = gradebook.find_submission(CHAPTER, result.student)
            recorded = {grade.name: grade.score for nb in submission.notebooks for grade in nb.grades}
            assert {test.id: test.points for test in result.report.tests} == {
                name: recorded[name] for name in (test.id for test in result.report.tests)
            }, result.student


def test_feedback_is_written_without_hidden_tests(course: Path, parallel: tuple[list, str]) -> None:
    hidden = {
        line.strip()
        for cell in nbformat.read(SOURCE, as_version=4).cells
        for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S)
        for line in block.splitlines()
        if line.strip()
    }
    assert hidden
    for student in EXPECTED:
        page = course / "feedback" / student / CHAPTER / NOTEBOOK.replace(".ipynb", ".html")
        text = html.unescape(re.sub(r"<[^>]*>", "", page.read_text()))
        assert not [line for line in hidden if line in text], student


def test_a_serial_rerun_gives_the_same_grades(course: Path, parallel: tuple[list, str]) -> None:
    results, csv = parallel
    again = grade_chapter(CHAPTER, course_dir=course, workers=1, progress=False)
    assert [(r.student, r.report.score, r.report.problem) for r in again] == [
        (r.student, r.report.score, r.report.problem) for r in results
    ]
    assert (course / "grades.csv").read_text() == csv


def test_results_recorded_in_batches_are_each_recorded_once(tmp_path: Path) -> None:
    """grade-all records each batch of finished notebooks while the rest are graded: a batch's
    nbgrader runs touch only its own learners, and grades.csv holds every learner at the end."""
    course, kit = released_course(tmp_path, SOURCE.parent)

    def not_run(why: str) -> Graded:
        return Graded(zero_report(kit, why), None)

    def written(student: str) -> dict[Path, int]:
        files = [*(course / "autograded" / student).rglob("*.ipynb"), *(course / "feedback" / student).rglob("*.html")]
        return {path: path.stat().st_mtime_ns for path in files}

    with recording(kit, course) as recorder:
        assert recorder.record({"erin": not_run("first batch")}) == {}
        first = written("erin")
        assert len(first) == 2, "erin's autograded notebook and feedback page"
        assert recorder.record({"frank": not_run("second batch"), "gus": not_run("second batch")}) == {}
        assert written("erin") == first, "the second batch's nbgrader runs rewrote the first batch's learner"
        assert len(written("frank")) == len(written("gus")) == 2
        failed = recorder.record({"h*": not_run("a pattern")})
        assert list(failed) == ["h*"] and "pattern" in failed["h*"]
    with (course / "grades.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert sorted((row["assignment"], row["student_id"], row["score"]) for row in rows) == [
        (CHAPTER, student, "0.0") for student in ("erin", "frank", "gus", "h*")
    ], "grades.csv names every learner, the one nbgrader could not record too"
    unrecorded = next(row for row in rows if row["student_id"] == "h*")
    assert unrecorded["for_review"] == "yes" and "pattern" in unrecorded["review_evidence"]


def test_text_no_file_can_hold_costs_only_that_learner(tmp_path: Path) -> None:
    """A result carrying a lone surrogate or a NUL (forged, or printed by the learner's code) is that
    learner's 0 with the reason when graded, and if it reaches recording, only theirs goes unrecorded."""
    assert invalid_text({"outputs": [{"text": "ok \U0001f600 \\u0000 as typed"}]}) is None
    assert "not valid Unicode" in (invalid_text({"notebook": {"cells": [{"text": "a\ud800b"}]}}) or "")
    assert "NUL" in (invalid_text({"k\x00": 1}) or "")

    course, kit = released_course(tmp_path, SOURCE.parent)
    forged = nbformat.from_dict(kit.template)
    forged.cells[0].source = "lone \ud800 surrogate"
    with recording(kit, course) as recorder:
        failed = recorder.record(
            {"ivy": Graded(zero_report(kit, "forged"), forged), "jo": Graded(zero_report(kit, "fine"), None)}
        )
    assert list(failed) == ["ivy"] and "not recorded" in failed["ivy"], failed
    with (course / "grades.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["student_id"] for row in rows] == ["jo", "ivy"], "ivy is named, with why she was not recorded"
    assert "not recorded" in rows[1]["review_evidence"] and rows[1]["score"] == "0.0"


def test_a_score_nbgrader_records_differently_holds_back_that_learners_feedback(tmp_path: Path) -> None:
    """Grading scores once; nbgrader's recording of the executed notebook must agree, or the learner's
    feedback is held back and their grades.csv row is marked for review with both scores."""
    course, kit = released_course(tmp_path, SOURCE.parent)
    claimed = zero_report(kit, "a report that claims full marks for a notebook that failed every test")
    claimed.score = claimed.max_score
    with recording(kit, course) as recorder:
        failed = recorder.record({"kay": Graded(claimed, None), "lou": Graded(zero_report(kit, "honest 0"), None)})
    assert list(failed) == ["kay"], failed
    assert "nbgrader recorded 0 of 6 points where grading scored 6" in failed["kay"]
    assert not (course / "feedback" / "kay").exists() and (course / "feedback" / "lou").is_dir()
    with (course / "grades.csv").open(newline="") as file:
        rows = {row["student_id"]: row for row in csv.DictReader(file)}
    assert rows["kay"]["for_review"] == "yes" and "nbgrader recorded 0" in rows["kay"]["review_evidence"]
    assert rows["lou"]["for_review"] == "no"
