"""Check my work: every visible check of a chapter, without stopping at the first failure.

``check_my_work("producer_consumer.ipynb")``, the last cell of every chapter, reads the
chapter's notebook as last saved, runs each graded test cell's visible checks (the part
before ``### BEGIN HIDDEN TESTS``) in the kernel's namespace, one after another, and
prints a table per exercise: its graded cells passed, their points, and the first
failing property with its hint. A failing cell never stops the rest.

In the learner's JupyterLab (``$ASYNCIO_COURSE_WORKSPACE`` set by ``course.py start``)
the result is also saved as ``<workspace>/.course_progress/<chapter>.json``, which the
course home page reads. When grading (``$ASYNCIO_COURSE_GRADING``, set by the grader's
sandbox) it runs nothing: the graded cells above are the score.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from coursekit.checks import CheckFailed
from coursekit.statements import cell_source, exercises

WORKSPACE_ENV = "ASYNCIO_COURSE_WORKSPACE"
GRADING_ENV = "ASYNCIO_COURSE_GRADING"
PROGRESS_DIR = ".course_progress"
HIDDEN_BEGINS = "### BEGIN HIDDEN TESTS"


@dataclass
class CellResult:
    """One graded test cell's visible checks: ``failure`` is None when they all passed."""

    grade_id: str
    points: float
    failure: str | None = None


@dataclass
class ExerciseResult:
    """The graded cells of one exercise (:func:`coursekit.statements.exercises`), titled by its statement."""

    title: str
    cells: list[CellResult] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(cell.failure is None for cell in self.cells)

    @property
    def points(self) -> float:
        return sum(cell.points for cell in self.cells)


@dataclass
class WorkReport:
    """What :func:`check_my_work` found, exercise by exercise (only the visible checks ran)."""

    chapter: str
    exercises: list[ExerciseResult]

    @property
    def failing_cells(self) -> int:
        return sum(len(exercise.cells) - exercise.passed for exercise in self.exercises)

    def table(self) -> str:
        """The per-exercise table a learner reads: ✓/✗, cells passed, points, first failure."""
        width = max([len("exercise"), *(len(exercise.title) for exercise in self.exercises)])
        lines = [f"{'exercise':<{width}}  passed  points", f"{'-' * width}  ------  ------"]
        for exercise in self.exercises:
            mark = "✓" if exercise.passed == len(exercise.cells) else "✗"
            lines.append(
                f"{exercise.title:<{width}}  {mark} {exercise.passed}/{len(exercise.cells)}   {exercise.points:g}"
            )
            failure = next((cell.failure for cell in exercise.cells if cell.failure), None)
            if failure:
                lines += [f"    {line.strip()}" for line in failure.splitlines() if _worth_showing(line)]
        cells = sum(len(exercise.cells) for exercise in self.exercises)
        if self.failing_cells:
            lines.append(f"{self.failing_cells} of {cells} graded cells still fail: fix them before you submit.")
        else:
            lines.append(f"All {cells} graded cells pass their visible checks. Grading adds hidden checks.")
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(asdict(self) | {"failing_cells": self.failing_cells}, indent=1, ensure_ascii=False)


def _worth_showing(line: str) -> bool:
    """The first failure's property line and its hint (the scenario and observation stay in the cell)."""
    return line.endswith(": FAILED") or line.lstrip().startswith("hint:") or not line.startswith(" ")


def check_my_work(notebook: str) -> None:
    """Run the visible checks of every graded cell of ``notebook`` (a file name in this notebook's
    folder) in this notebook's namespace, and print the table (the cell shows nothing else)."""
    checked_work(notebook, _notebook_namespace())


def checked_work(notebook: str, namespace: dict[str, Any]) -> WorkReport | None:
    """What :func:`check_my_work` does, in ``namespace``: print the table, save the learner's
    progress; the report (None when grading, or when the notebook is not there)."""
    if os.environ.get(GRADING_ENV):
        print("Check my work does not run while grading: the graded cells above are your score.")
        return None
    path = Path.cwd() / notebook
    if not path.is_file():
        print(f"Check my work reads {notebook} from this notebook's folder, and it is not there.")
        return None
    report = run_visible_checks(path, namespace)
    print(report.table())
    _save_progress(report, path.parent)
    return report


def run_visible_checks(path: Path, namespace: dict[str, Any]) -> WorkReport:
    """Each graded cell's visible part run in ``namespace``, its printing kept out of sight."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    results = []
    for exercise in exercises(notebook.get("cells", [])):
        result = ExerciseResult(exercise.title)
        for cell in exercise.graded:
            meta = cell["metadata"]["nbgrader"]
            visible = cell_source(cell).split(HIDDEN_BEGINS)[0]
            failure = _run(visible, namespace)
            result.cells.append(CellResult(meta.get("grade_id", "?"), float(meta.get("points", 0)), failure))
        if result.cells:
            results.append(result)
    return WorkReport(path.parent.name, results)


def _run(source: str, namespace: dict[str, Any]) -> str | None:
    """None if ``source`` ran without raising; else what the learner needs to read."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, "<graded cell>", "exec"), namespace)
    except CheckFailed as failure:
        return str(failure)
    except Exception as error:  # a learner's error in a check: name it, go on with the next cell
        return f"the cell raised {type(error).__name__}: {error}"
    return None


def _notebook_namespace() -> dict[str, Any]:
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise RuntimeError("check_my_work runs in a notebook; elsewhere, pass the namespace to run the checks in")
    namespace: dict[str, Any] = shell.user_ns
    return namespace


def _save_progress(report: WorkReport, folder: Path) -> None:
    """In the learner's workspace, keep the report for the course home page."""
    workspace = os.environ.get(WORKSPACE_ENV)
    if not workspace or folder.parent.resolve() != Path(workspace).resolve():
        return
    target = Path(workspace) / PROGRESS_DIR / f"{report.chapter}.json"
    with contextlib.suppress(OSError):
        target.parent.mkdir(exist_ok=True)
        target.write_text(report.to_json(), encoding="utf-8")
