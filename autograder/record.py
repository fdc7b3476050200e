"""Record graded submissions in the gradebook, write their feedback and grades.csv, on this machine.

Each learner's executed notebook (or, when it never ran, the release with every test
failed with the reason) goes into ``sandboxed/<student>/<chapter>/``. Then, through
nbgrader's own API in this process (one start-up, not one per command):

- ``autograde`` with nbgrader's ``--no-execute`` settings records it (nothing runs);
- ``generate_feedback`` writes its feedback page (hidden tests removed);

all learners in one run; nbgrader goes on past a learner it cannot handle, and when a
run reports a failure, each learner is run alone to find whose it was, so a failure
costs only that learner their record or feedback, returned as their problem.
``grades.csv`` (nbgrader's CSV export) gets two columns more: ``for_review`` (yes/no)
and ``review_evidence``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nbformat

from autograder.grading import Graded, GradeReport, fail_tests
from autograder.kit import GradingKit

SANDBOXED = "sandboxed"


def record(kit: GradingKit, course_dir: Path, results: dict[str, Graded]) -> dict[str, str]:
    """Record, give feedback on and export ``results``; {student: what failed} for those where a step failed."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.plugins import CsvExportPlugin
    from traitlets.config.loader import PyFileConfigLoader

    for student, graded in results.items():
        path = course_dir / SANDBOXED / student / kit.assignment / kit.notebook_name
        path.parent.mkdir(parents=True, exist_ok=True)
        executed = graded.executed if graded.executed is not None else failed_release(kit, graded.report)
        nbformat.write(nbformat.from_dict(executed), path)
        stamp = course_dir / "submitted" / student / kit.assignment / "timestamp.txt"
        if stamp.is_file() and not stamp.is_symlink():
            (path.parent / "timestamp.txt").write_text(stamp.read_text(errors="replace")[:64])
    config = PyFileConfigLoader("nbgrader_config.py", str(course_dir)).load_config()
    config.CourseDirectory.submitted_directory = SANDBOXED
    config.Execute.enabled = False  # what `nbgrader autograde --no-execute` sets
    config.ClearOutput.enabled = False
    api = NbGraderAPI(config=config)
    failed: dict[str, str] = {}
    for step, run in (("recording", api.autograde), ("feedback", api.generate_feedback)):
        if run(kit.assignment, "*", force=True).get("success"):
            continue
        for student in results:  # someone failed (nbgrader went on past them): find who, one at a time
            outcome = run(kit.assignment, student, force=True)
            if not outcome.get("success"):
                failed[student] = f"{step} failed: {(outcome.get('error') or outcome.get('log') or '').strip()[-300:]}"
    with Gradebook(config.CourseDirectory.db_url) as gradebook:
        export = CsvExportPlugin(to=str(course_dir / "grades.csv"))
        export.export(gradebook)
    add_review_columns(course_dir / "grades.csv", kit.assignment, {s: g.report.review for s, g in results.items()})
    return failed


def add_review_columns(path: Path, assignment: str, review: dict[str, list[str]]) -> None:
    """Add ``for_review`` (yes/no) and ``review_evidence`` to nbgrader's grades.csv."""
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


def failed_release(kit: GradingKit, report: GradeReport) -> nbformat.NotebookNode:
    """The release with every test cell failed by ``report.problem``: what gets recorded for a
    submission that could not run (it shows no solution in the feedback)."""
    notebook = nbformat.from_dict(kit.template)
    fail_tests(notebook, report.problem or "not graded", only_unrun=False)
    return notebook
