"""Grade every submission of a chapter: ``python -m autograder grade-all CHAPTER``.

1. :func:`autograder.collect.collect` brings the latest submission of each learner from
   the exchange into ``submitted/`` (earlier ones stay in the exchange).
2. One task per learner goes to a Dask cluster (:mod:`autograder.cluster`): each worker
   rebuilds the notebook from the release and runs it in its own sandbox
   (:func:`autograder.grading.grade_submission`). Results are keyed by learner; a task
   that fails, even on a worker that died three times, is a 0 with its reason for that
   learner alone.
3. Back on this machine, the executed notebooks (``sandboxed/<student>/<chapter>/``) are
   recorded in the gradebook by ``nbgrader autograde --no-execute`` (nothing runs in
   the course directory); a notebook that never ran is recorded as the release with every
   test cell failed with the reason.
4. ``nbgrader generate_feedback`` (hidden tests removed) and ``nbgrader export``
   (``grades.csv``, with ``for_review`` and ``review_evidence`` columns), then a summary.

Running it again grades the same files the same way and gives the same results.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from tqdm import tqdm  # type: ignore[import-untyped]  # tqdm ships no type hints

from autograder.chapters import COURSE_DIR, select_chapters
from autograder.cluster import grading_client
from autograder.collect import collect, regular_files
from autograder.grading import Graded, GradeReport, fail_tests, grade_submission, zero_report
from autograder.kit import GradingKit, load_kit
from autograder.nbgrader_run import NbgraderFailed, nbgrader
from autograder.sandbox import DEFAULT_LIMITS, Limits

SANDBOXED = "sandboxed"


@dataclass(frozen=True)
class StudentResult:
    student: str
    report: GradeReport


def grade_chapter(
    assignment: str,
    *,
    course_dir: Path = COURSE_DIR,
    workers: int | None = None,
    scheduler: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    unsafe: bool = False,
    progress: bool = True,
    on_graded: Callable[[str], None] = lambda student: None,
) -> list[StudentResult]:
    """Collect, grade, record, give feedback and export one chapter; results sorted by student."""
    kit = load_kit(select_chapters([assignment])[0], course_dir)
    collect(assignment, course_dir)
    submissions = {
        folder.name: dict(regular_files(folder / assignment)).get(kit.notebook_name, b"")
        for folder in sorted((course_dir / "submitted").iterdir() if (course_dir / "submitted").is_dir() else [])
        if folder.is_dir() and not folder.is_symlink() and (folder / assignment).is_dir()
    }
    with tqdm(total=len(submissions), desc=f"grading {assignment}", unit="notebook", disable=not progress) as bar:

        def graded(student: str) -> None:
            bar.update()
            on_graded(student)

        results = grade_all(
            kit, submissions, limits=limits, workers=workers, scheduler=scheduler, unsafe=unsafe, on_graded=graded
        )
    if results:
        record(kit, course_dir, results)
    return [StudentResult(student, results[student].report) for student in sorted(results)]


def grade_all(
    kit: GradingKit,
    submissions: dict[str, bytes],
    *,
    limits: Limits,
    workers: int | None = None,
    scheduler: str | None = None,
    unsafe: bool = False,
    on_graded: Callable[[str], None] = lambda student: None,
) -> dict[str, Graded]:
    """Grade each learner's notebook file as a Dask task; {learner: result}, whatever fails."""
    from distributed import as_completed

    if not submissions:
        return {}
    results: dict[str, Graded] = {}
    with grading_client(scheduler, workers) as client:
        futures = {
            client.submit(
                grade_submission, kit, f"{student}/{kit.notebook_name}", data, limits, unsafe, key=f"grade-{student}"
            ): student
            for student, data in submissions.items()
        }
        for future in as_completed(futures):
            student = futures[future]
            try:
                results[student] = future.result()
            except Exception as error:  # the task itself failed, e.g. its workers kept dying
                results[student] = Graded(
                    zero_report(kit, f"grading failed on the cluster: {type(error).__name__}: {error}"), None
                )
            on_graded(student)
    return results


def record(kit: GradingKit, course_dir: Path, results: dict[str, Graded]) -> None:
    """Record every result in the gradebook, write feedback and grades.csv (see the module's docstring)."""
    for student, graded in results.items():
        path = course_dir / SANDBOXED / student / kit.assignment / kit.notebook_name
        path.parent.mkdir(parents=True, exist_ok=True)
        executed = graded.executed if graded.executed is not None else failed_release(kit, graded.report)
        nbformat.write(nbformat.from_dict(executed), path)
        stamp = course_dir / "submitted" / student / kit.assignment / "timestamp.txt"
        if stamp.is_file() and not stamp.is_symlink():
            (path.parent / "timestamp.txt").write_text(stamp.read_text(errors="replace")[:64])
    steps = [
        ("autograde", kit.assignment, "--force", "--no-execute", f"--CourseDirectory.submitted_directory={SANDBOXED}"),
        ("generate_feedback", kit.assignment, "--force"),
        ("export",),
    ]
    for step in steps:
        try:  # nbgrader goes on past a notebook it cannot handle, then exits non-zero
            nbgrader(*step, course_dir=course_dir)
        except NbgraderFailed as error:
            print(f"warning: {error}; see its log above", file=sys.stderr)
    add_review_columns(course_dir / "grades.csv", kit.assignment, {s: g.report.review for s, g in results.items()})


def add_review_columns(path: Path, assignment: str, review: dict[str, list[str]]) -> None:
    """Add ``for_review`` (yes/no) and ``review_evidence`` to nbgrader's grades.csv."""
    if not path.exists():
        return
    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    fields = [*(rows[0].keys() if rows else []), "for_review", "review_evidence"]
    for row in rows:
        evidence = review.get(row["student_id"], []) if row["assignment"] == assignment else []
        row["for_review"] = "yes" if evidence else "no"
        row["review_evidence"] = " | ".join(evidence)
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def summary_table(results: list[StudentResult]) -> str:
    """One line per student: score, review mark, and the reason when the notebook could not run normally."""
    if not results:
        return "no submissions"
    width = max(len("student"), *(len(result.student) for result in results))
    lines = [f"{'student':<{width}}  score   review  reason", f"{'-' * width}  ------  ------  ------"]
    for result in results:
        report = result.report
        score = f"{report.score:g}/{report.max_score:g}"
        review = "YES" if report.review else ""
        reason = (report.problem or "") + (f" [review: {report.review[0]}]" if report.review else "")
        lines.append(f"{result.student:<{width}}  {score:<6}  {review:<6}  {reason[:160]}")
    return "\n".join(lines)


def failed_release(kit: GradingKit, report: GradeReport) -> nbformat.NotebookNode:
    """The release with every test cell failed by ``report.problem``: what gets recorded for a
    submission that could not run (it shows no solution in the feedback)."""
    notebook = nbformat.from_dict(kit.template)
    fail_tests(notebook, report.problem or "not graded", only_unrun=False)
    return notebook
