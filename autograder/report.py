"""What grading says of one notebook: plain data, made by :mod:`autograder.grading` on a
worker and read by :mod:`autograder.record` and :mod:`autograder.batch` on the instructor's
machine, so that recording never reaches back into grading."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import nbformat

from autograder.kit import GradingKit
from coursekit.version import course_version

NOT_GRADED = "NotGraded"  # the error given to test cells that did not run
UNKNOWN_VERSION = "unknown"


@dataclass
class TestResult:
    """One graded test cell: ``id`` is its nbgrader grade_id."""

    id: str
    points: float
    max_points: float
    passed: bool
    message: str


@dataclass
class GradeReport:
    """The score of one notebook and what each test cell said.

    ``problem``: why the notebook could not run normally (None when it did).
    ``review``: tamper evidence; a non-empty list marks the submission for an
    instructor's review (the score is what the tests gave).
    ``released_by``: the course version that released the notebook the learner worked on (as the
    notebook says, checked to look like a version), ``graded_by`` the one that graded it."""

    chapter: str
    score: float
    max_score: float
    tests: list[TestResult] = field(default_factory=list)
    problem: str | None = None
    review: list[str] = field(default_factory=list)
    released_by: str = UNKNOWN_VERSION
    graded_by: str = field(default_factory=course_version)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def render(self) -> str:
        """A readable report: the score, then each test with its feedback, then review evidence."""
        lines = [f"{self.chapter}: {self.score:g} / {self.max_score:g} points"]
        if self.problem:
            lines.append(f"Problem: {self.problem}")
        for test in self.tests:
            mark = "✓" if test.passed else "✗"
            lines.append(f"{mark} {test.id}: {test.points:g} / {test.max_points:g}")
            if not test.passed and test.message and test.message != self.problem:
                lines += [f"    {line}" for line in test.message.splitlines()]
        if self.review:
            lines.append("FOR REVIEW (the score stands until an instructor decides):")
            lines += [f"    {evidence}" for evidence in self.review]
        return "\n".join(lines)


@dataclass(frozen=True)
class Graded:
    """What grading one submission gives: the report, and the executed notebook (when it ran)."""

    report: GradeReport
    executed: dict[str, Any] | None


def zero_report(kit: GradingKit, problem: str) -> GradeReport:
    """Every test cell of the chapter at 0 points, with ``problem`` as the reason."""
    tests = [
        TestResult(meta["grade_id"], 0.0, float(meta.get("points", 0)), False, problem)
        for cell in kit.template["cells"]
        for meta in [cell.get("metadata", {}).get("nbgrader", {})]
        if meta.get("grade") and cell["cell_type"] == "code"
    ]
    return GradeReport(kit.assignment, 0.0, sum(test.max_points for test in tests), tests, problem)


def fail_tests(notebook: nbformat.NotebookNode, reason: str, *, only_unrun: bool) -> None:
    """Give test cells (those that never ran, with ``only_unrun``) an error saying ``reason``,
    so that nbgrader records them at 0 points, as grading scored them."""
    for cell in notebook.cells:
        if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("grade"):
            continue
        if not only_unrun or cell.get("execution_count") is None:
            cell.outputs = [nbformat.v4.new_output("error", ename=NOT_GRADED, evalue=reason, traceback=[reason])]


def failed_release(kit: GradingKit, report: GradeReport) -> nbformat.NotebookNode:
    """The release with every test cell failed by ``report.problem``: what gets recorded for a
    submission that could not run (it shows no solution in the feedback)."""
    notebook: nbformat.NotebookNode = nbformat.from_dict(kit.template)
    fail_tests(notebook, report.problem or "not graded", only_unrun=False)
    return notebook
