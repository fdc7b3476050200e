"""Record graded submissions in the gradebook, write their feedback and grades.csv, on this machine.

A :class:`Recorder` takes results while the rest of the batch is still being graded, a
few learners at a time (all those graded since its last call). Each learner's executed
notebook (or, when it never ran, the release with every test failed with the reason)
goes into ``sandboxed/<student>/<chapter>/``. Then, through nbgrader's own API in this
process (one start-up for the whole batch):

- ``autograde`` with nbgrader's ``--no-execute`` settings records it (nothing runs);
- ``generate_feedback`` writes its feedback page (hidden tests removed);

each run covering exactly the learners of that call (every other learner's folder is
excluded). nbgrader goes on past a learner it cannot handle; when a run reports a
failure, each of its learners is run alone to find whose it was, so a failure costs only
that learner their record or feedback, returned as their problem. At the end,
``grades.csv`` (nbgrader's CSV export) gets two columns more: ``for_review`` (yes/no)
and ``review_evidence``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat

from autograder.grading import Graded, GradeReport, fail_tests
from autograder.kit import GradingKit
from autograder.nbgrader_run import nbgrader_api

if TYPE_CHECKING:
    from nbgrader.apps import NbGraderAPI

SANDBOXED = "sandboxed"
# What `nbgrader autograde --no-execute` sets: the executed notebooks are recorded as they are.
NO_EXECUTE: dict[str, dict[str, Any]] = {
    "CourseDirectory": {"submitted_directory": SANDBOXED},
    "Execute": {"enabled": False},
    "ClearOutput": {"enabled": False},
}
# nbgrader reads a student id as a glob pattern, and its exclusion list as comma-separated ids.
PATTERN_CHARACTERS = set("*?[],")


class Recorder:
    """Records results in one course's gradebook through an open nbgrader API."""

    def __init__(self, kit: GradingKit, course_dir: Path, api: NbGraderAPI) -> None:
        self.kit, self.course_dir, self.api = kit, course_dir, api
        self.review: dict[str, list[str]] = {}

    def record(self, results: dict[str, Graded]) -> dict[str, str]:
        """Record ``results`` and write their feedback; {student: what failed} for those where a step failed."""
        failed = {s: "not recorded: nbgrader would read this id as a pattern" for s in results if unsafe_id(s)}
        batch = {student: graded for student, graded in results.items() if student not in failed}
        for student, graded in batch.items():
            self.review[student] = graded.report.review
            self.stage(student, graded)
        if not batch:
            return failed
        self.api.coursedir.student_id_exclude = ",".join(sorted(self.known_students() - set(batch)))
        try:
            for step, run in (("recording", self.api.autograde), ("feedback", self.api.generate_feedback)):
                if run(self.kit.assignment, "*", force=True).get("success"):
                    continue
                for student in batch:  # someone failed (nbgrader went on past them): find who, one at a time
                    outcome = run(self.kit.assignment, student, force=True)
                    if not outcome.get("success"):
                        why = (outcome.get("error") or outcome.get("log") or "").strip()[-300:]
                        failed[student] = f"{step} failed: {why}"
        finally:
            self.api.coursedir.student_id_exclude = ""
        return failed

    def stage(self, student: str, graded: Graded) -> None:
        """Write what nbgrader will record for ``student`` (and their submission time) into ``sandboxed/``."""
        path = self.course_dir / SANDBOXED / student / self.kit.assignment / self.kit.notebook_name
        path.parent.mkdir(parents=True, exist_ok=True)
        executed = graded.executed if graded.executed is not None else failed_release(self.kit, graded.report)
        nbformat.write(nbformat.from_dict(executed), path)
        stamp = self.course_dir / "submitted" / student / self.kit.assignment / "timestamp.txt"
        if stamp.is_file() and not stamp.is_symlink():
            (path.parent / "timestamp.txt").write_text(stamp.read_text(errors="replace")[:64])

    def known_students(self) -> set[str]:
        """Every student folder an nbgrader run over ``*`` would find (to exclude all but a batch)."""
        folders = [self.course_dir / SANDBOXED, self.course_dir / "autograded"]
        return {entry.name for folder in folders if folder.is_dir() for entry in folder.iterdir()}

    def export(self) -> None:
        """Write ``grades.csv``: nbgrader's export of the whole gradebook, with the review columns."""
        from nbgrader.api import Gradebook
        from nbgrader.plugins import CsvExportPlugin

        with Gradebook(self.api.coursedir.db_url) as gradebook:
            CsvExportPlugin(to=str(self.course_dir / "grades.csv")).export(gradebook)
        add_review_columns(self.course_dir / "grades.csv", self.kit.assignment, self.review)


@contextmanager
def recording(kit: GradingKit, course_dir: Path) -> Iterator[Recorder]:
    """A :class:`Recorder` for ``course_dir``; ``grades.csv`` is written when the block ends normally."""
    with nbgrader_api(course_dir, NO_EXECUTE) as api:
        recorder = Recorder(kit, course_dir, api)
        yield recorder
        recorder.export()


def unsafe_id(student: str) -> bool:
    return bool(PATTERN_CHARACTERS & set(student))


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
