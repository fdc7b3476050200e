"""Grade every submission of a chapter: ``python -m autograder grade-all CHAPTER``.

1. ``nbgrader collect --update`` brings the latest submission of each learner from the
   exchange into ``submitted/`` (earlier ones stay in the exchange's inbound folder).
2. Each ``submitted/<student>/<chapter>/`` notebook is graded by
   :func:`autograder.grading.grade_files`: sandboxed, in throwaway courses, two at a
   time; a broken or hostile notebook scores 0 with its reason.
3. The executed notebooks (``sandboxed/<student>/<chapter>/``) are recorded in the real
   gradebook by ``nbgrader autograde`` with nothing executed (no learner code runs in
   the course directory); a notebook that never ran is recorded as the release with
   every test cell failed with the reason.
4. ``nbgrader generate_feedback`` (hidden tests removed) and ``nbgrader export``
   (``grades.csv``), then a summary table.

Running it again grades the same files the same way and gives the same results.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
from tqdm import tqdm

from autograder.chapters import COURSE_DIR, Chapter, select_chapters
from autograder.exchange import exchange_root
from autograder.grading import GradeReport, grade_files
from autograder.nbgrader_run import nbgrader
from autograder.release import is_released, release, release_dir

SANDBOXED = "sandboxed"
RECORD_ONLY = [  # nbgrader autograde's steps minus clearing outputs and executing
    "--Autograde.sanitize_preprocessors=nbgrader.preprocessors.DeduplicateIds",
    "--Autograde.sanitize_preprocessors=nbgrader.preprocessors.OverwriteKernelspec",
    "--Autograde.sanitize_preprocessors=nbgrader.preprocessors.OverwriteCells",
    "--Autograde.sanitize_preprocessors=nbgrader.preprocessors.CheckCellMetadata",
    "--Autograde.autograde_preprocessors=nbconvert.preprocessors.ClearMetadataPreprocessor",
    "--Autograde.autograde_preprocessors=nbgrader.preprocessors.LimitOutput",
    "--Autograde.autograde_preprocessors=nbgrader.preprocessors.SaveAutoGrades",
    "--Autograde.autograde_preprocessors=nbgrader.preprocessors.AssignLatePenalties",
    "--Autograde.autograde_preprocessors=nbgrader.preprocessors.CheckCellMetadata",
]


@dataclass(frozen=True)
class StudentResult:
    student: str
    report: GradeReport


def grade_chapter(
    assignment: str, *, course_dir: Path = COURSE_DIR, workers: int = 2, progress: bool = True
) -> list[StudentResult]:
    """Collect, grade, record, give feedback and export one chapter; results sorted by student."""
    chapter = select_chapters([assignment])[0]
    if not is_released(chapter, course_dir):
        release([chapter], course_dir)
    if (exchange_root(course_dir) / "asyncio-course" / "inbound").is_dir():
        nbgrader("collect", assignment, "--update", course_dir=course_dir)
    folders = sorted(path for path in (course_dir / "submitted").glob(f"*/{assignment}") if path.is_dir())
    students = [folder.parent.name for folder in folders]
    notebook = chapter.notebooks[0].name
    executed = [course_dir / SANDBOXED / student / assignment / notebook for student in students]
    shutil.rmtree(course_dir / SANDBOXED, ignore_errors=True)
    with tqdm(total=len(folders), desc=f"grading {assignment}", unit="notebook", disable=not progress) as bar:
        reports = grade_files(
            [folder / notebook for folder in folders],
            assignment,
            workers=workers,
            keep_executed=executed,
            on_graded=bar.update,
        )
    for student, folder, path, report in zip(students, folders, executed, reports):
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(_failed_release(chapter, course_dir, report), path)
        if (folder / "timestamp.txt").exists():
            shutil.copyfile(folder / "timestamp.txt", path.parent / "timestamp.txt")
    if students:
        nbgrader(
            "autograde",
            assignment,
            "--force",
            f"--CourseDirectory.submitted_directory={SANDBOXED}",
            *RECORD_ONLY,
            course_dir=course_dir,
        )
        nbgrader("generate_feedback", assignment, "--force", course_dir=course_dir)
        nbgrader("export", course_dir=course_dir)
    return [StudentResult(student, report) for student, report in zip(students, reports)]


def summary_table(results: list[StudentResult]) -> str:
    """One line per student: score, and the reason when the notebook could not run normally."""
    if not results:
        return "no submissions"
    width = max(len("student"), *(len(result.student) for result in results))
    lines = [f"{'student':<{width}}  score   reason", f"{'-' * width}  ------  ------"]
    for result in results:
        report = result.report
        score = f"{report.score:g}/{report.max_score:g}"
        lines.append(f"{result.student:<{width}}  {score:<6}  {(report.problem or '')[:100]}")
    return "\n".join(lines)


def _failed_release(chapter: Chapter, course_dir: Path, report: GradeReport) -> nbformat.NotebookNode:
    """The release notebook with every test cell failed by ``report.problem``: what gets recorded
    for a submission that could not run (it shows no solution in the feedback)."""
    notebook = nbformat.read(release_dir(chapter, course_dir) / chapter.notebooks[0].name, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            cell.outputs = [
                nbformat.v4.new_output(
                    "error", ename="NotGraded", evalue=report.problem or "", traceback=[f"NotGraded: {report.problem}"]
                )
            ]
    return notebook
