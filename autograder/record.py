"""Record graded submissions in the gradebook, write their feedback and grades.csv, on this machine.

A :class:`Recorder` takes results while the rest of the batch is still being graded, a
few learners at a time (all those graded since its last call). Each learner's executed
notebook (or, when it never ran, the release with every test failed with the reason)
goes into ``sandboxed/<student>/<chapter>/``. Then, through nbgrader's own API in this
process (one start-up for the whole batch):

- ``autograde`` with nbgrader's ``--no-execute`` settings records it (nothing runs);
- ``generate_feedback`` writes its feedback page (hidden tests removed);
- ``release_feedback`` puts that page in the exchange, where the learner's Fetch Feedback
  finds it (for submissions handed in through the exchange: the page's name there is made
  from the secret nbgrader's submit gave the submission);

each run covering exactly the learners of that call (every other learner's folder is
excluded). Between recording and feedback, the score nbgrader recorded is compared with the
score grading computed: a learner whose two differ is not given feedback, and is marked
for review with both. nbgrader goes on past a learner it cannot handle; when a run reports a
failure, each of its learners is run alone to find whose it was, so a failure costs only
that learner their record or feedback, returned as their problem. At the end,
``grades.csv`` (nbgrader's CSV export) gets four columns more: ``for_review`` (yes/no),
``review_evidence``, ``released_by`` (the course version that released the notebook the
learner worked on) and ``graded_by`` (the version that graded it). These facts are kept per
chapter and learner in ``grading_facts.json``, so every chapter's rows keep them.
"""

from __future__ import annotations

import csv
import json
import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import nbformat

from autograder.collect import SECRET, SECRET_MAX
from autograder.kit import GradingKit
from autograder.learner_ids import id_problem
from autograder.nbgrader_run import NbgraderResult, nbgrader_api
from autograder.report import UNKNOWN_VERSION, Graded, GradeReport, failed_release, zero_report

if TYPE_CHECKING:
    from nbgrader.apps import NbGraderAPI

SANDBOXED = "sandboxed"
FACTS = "grading_facts.json"  # {chapter: {student: {review, released_by, graded_by}}}
SUBMISSION_FACTS = ("timestamp.txt", SECRET)
# What `nbgrader autograde --no-execute` sets: the executed notebooks are recorded as they are.
NO_EXECUTE: dict[str, dict[str, Any]] = {
    "CourseDirectory": {"submitted_directory": SANDBOXED},
    "Execute": {"enabled": False},
    "ClearOutput": {"enabled": False},
}
# nbgrader reads a student id as a glob pattern, and its exclusion list as comma-separated ids.


class Facts(TypedDict):
    """One learner's facts for the extra columns of grades.csv (see the module's docstring)."""

    review: list[str]
    released_by: str
    graded_by: str


class Recorder:
    """Records results in one course's gradebook through an open nbgrader API."""

    def __init__(self, kit: GradingKit, course_dir: Path, api: NbGraderAPI) -> None:
        self.kit, self.course_dir, self.api = kit, course_dir, api
        self.facts: dict[str, Facts] = {}  # {student: the extra columns' facts} of this chapter
        self.unreleased: set[str] = set()  # recorded, but handed in outside the exchange: no feedback to release
        self.refused: dict[str, str] = {}  # {student: why their id cannot be graded}: a row of grades.csv each
        self.failed: dict[str, str] = {}  # {student: the step that failed}: a row of grades.csv for those not recorded

    def record(self, results: dict[str, Graded]) -> dict[str, str]:
        """Record ``results``, write their feedback and release it to the exchange; {student: what failed}
        for those where a step failed. Feedback is released only to learners who handed in through the
        exchange (the others are listed in :attr:`unreleased`)."""
        failed = {s: f"not recorded: {why}" for s in results if (why := id_problem(s))}
        for student, graded in results.items():
            if student in failed:
                continue
            try:
                self.stage(student, graded)
            except (OSError, ValueError) as error:  # e.g. text a file cannot hold: this learner's alone
                failed[student] = f"not recorded: {type(error).__name__}: {error}"[:300]
                continue
            report = graded.report
            self.facts[student] = {
                "review": report.review,
                "released_by": report.released_by,
                "graded_by": report.graded_by,
            }
        batch = {student: graded for student, graded in results.items() if student not in failed}
        failed |= self.run_step("recording", self.autograde, set(batch) - set(failed))
        disagreeing = self.disagreements({s: batch[s].report for s in batch if s not in failed})
        for student, why in disagreeing.items():
            self.facts[student]["review"] = [*self.facts[student]["review"], why]
        failed |= disagreeing
        failed |= self.run_step("feedback", self.generate_feedback, set(batch) - set(failed))
        written = set(batch) - set(failed)
        handed_in = {student for student in written if self.has_secret(student)}
        self.unreleased |= written - handed_in
        failed |= self.run_step("releasing feedback", self.api.release_feedback, handed_in)
        self.failed.update(failed)
        return failed

    def autograde(self, assignment: str, student: str) -> NbgraderResult:
        """nbgrader's ``autograde --no-execute --force`` (see :data:`NO_EXECUTE`)."""
        result: NbgraderResult = self.api.autograde(assignment, student, force=True)  # nbgrader is untyped
        return result

    def generate_feedback(self, assignment: str, student: str) -> NbgraderResult:
        """nbgrader's ``generate_feedback --force``."""
        result: NbgraderResult = self.api.generate_feedback(assignment, student, force=True)
        return result

    def run_step(self, step: str, run: Callable[[str, str], NbgraderResult], students: set[str]) -> dict[str, str]:
        """Run one nbgrader step over ``students`` only (every other learner excluded); if it fails,
        run it for each of them alone to find whose failure it was: {student: why}."""
        if not students:
            return {}
        failed = {}
        self.api.coursedir.student_id_exclude = ",".join(sorted(self.known_students() - students))
        try:
            if run(self.kit.assignment, "*").get("success"):
                return {}
            for student in sorted(students):  # nbgrader went on past someone, or stopped: find who
                outcome = run(self.kit.assignment, student)
                if not outcome.get("success"):
                    why = (outcome.get("error") or outcome.get("log") or "").strip()[-300:]
                    failed[student] = f"{step} failed: {why}"
        finally:
            self.api.coursedir.student_id_exclude = ""
        return failed

    def disagreements(self, reports: dict[str, GradeReport]) -> dict[str, str]:
        """The learners whose score as nbgrader recorded it (from their executed notebook) is not the
        score grading computed: {student: why}. One of the two is wrong, so that learner's feedback
        is held back and their grades.csv row (nbgrader's score) is marked for review."""
        from nbgrader.api import Gradebook

        found = {}
        with Gradebook(self.api.coursedir.db_url) as gradebook:
            for student, report in reports.items():
                recorded = gradebook.find_submission(self.kit.assignment, student).score
                if not math.isclose(recorded, report.score, abs_tol=1e-6):
                    found[student] = (
                        f"nbgrader recorded {recorded:g} of {report.max_score:g} points where grading scored "
                        f"{report.score:g}; feedback held back: regrade this learner"
                    )
        return found

    def has_secret(self, student: str) -> bool:
        """Did ``student`` hand in through the exchange (so that their feedback can be released)?"""
        return (self.course_dir / SANDBOXED / student / self.kit.assignment / SECRET).is_file()

    def stage(self, student: str, graded: Graded) -> None:
        """Write what nbgrader will record for ``student`` into ``sandboxed/``, with the submission's
        time and secret (feedback is released under a name made from the secret)."""
        path = self.course_dir / SANDBOXED / student / self.kit.assignment / self.kit.notebook_name
        path.parent.mkdir(parents=True, exist_ok=True)
        executed = graded.executed if graded.executed is not None else failed_release(self.kit, graded.report)
        nbformat.write(nbformat.from_dict(executed), path)
        submitted = self.course_dir / "submitted" / student / self.kit.assignment
        for name in SUBMISSION_FACTS:  # written by collect (validated there), read by nbgrader
            fact = submitted / name
            if fact.is_file() and not fact.is_symlink():
                (path.parent / name).write_text(fact.read_text(errors="replace")[:SECRET_MAX])

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
        facts_file = self.course_dir / FACTS
        facts = json.loads(facts_file.read_text(encoding="utf-8")) if facts_file.is_file() else {}
        facts.setdefault(self.kit.assignment, {}).update(self.facts)
        facts_file.write_text(json.dumps(facts, indent=1, sort_keys=True, ensure_ascii=False), encoding="utf-8")
        path = self.course_dir / "grades.csv"
        with path.open(newline="") as file:
            reader = csv.DictReader(file)
            fields, rows = list(reader.fieldnames or []), list(reader)
        add_columns(rows, facts)
        rows += missing_rows(rows, self.kit, {**self.failed, **self.refused})
        with path.open("w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=[*fields, *EXTRA_COLUMNS], restval="")
            writer.writeheader()
            writer.writerows(rows)


@contextmanager
def recording(kit: GradingKit, course_dir: Path) -> Iterator[Recorder]:
    """A :class:`Recorder` for ``course_dir``; ``grades.csv`` is written when the block ends normally.

    SQLAlchemy's warnings about nbgrader's own session handling are silenced: nothing an
    instructor can act on."""
    from sqlalchemy.exc import SAWarning

    with nbgrader_api(course_dir, NO_EXECUTE) as api, warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=SAWarning)
        recorder = Recorder(kit, course_dir, api)
        yield recorder
        recorder.export()


EXTRA_COLUMNS = ("for_review", "review_evidence", "released_by", "graded_by")  # after nbgrader's own
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert_in_spreadsheets(text: str) -> str:
    """``text`` as a spreadsheet shows it, never runs it: one that would start a formula gets a ``'`` first."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def add_columns(rows: list[dict[str, str]], facts: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Give each of nbgrader's grades.csv ``rows`` ``for_review`` (yes/no), ``review_evidence``,
    ``released_by`` and ``graded_by``, from ``facts`` ({chapter: {student: facts}}); a row graded
    before these were kept gets ``no``, empty evidence and ``unknown`` versions."""
    for row in rows:
        known = facts.get(row["assignment"], {}).get(row["student_id"], {})
        evidence = known.get("review", [])
        row["for_review"] = "yes" if evidence else "no"
        row["review_evidence"] = inert_in_spreadsheets(" | ".join(evidence))
        row["released_by"] = known.get("released_by", UNKNOWN_VERSION)
        row["graded_by"] = known.get("graded_by", UNKNOWN_VERSION)


def missing_rows(rows: list[dict[str, str]], kit: GradingKit, missing: dict[str, str]) -> list[dict[str, str]]:
    """A grades.csv row for each learner of ``missing`` ({student: why}) that ``rows`` lack (refused up
    front, :mod:`autograder.learner_ids`, or not recorded): 0 points, for review, the reason as the
    evidence. So grades.csv names every learner of the batch."""
    listed = {(row["assignment"], row["student_id"]) for row in rows}
    max_score = sum(test.max_points for test in zero_report(kit, "").tests)
    return [
        {
            "assignment": kit.assignment,
            "student_id": student,
            "raw_score": "0.0",
            "score": "0.0",
            "max_score": str(max_score),
            "for_review": "yes",
            "review_evidence": inert_in_spreadsheets(why),
        }
        for student, why in sorted(missing.items())
        if (kit.assignment, student) not in listed
    ]
