#!/usr/bin/env python3
"""Grading throughput: notebooks per minute, batch grading vs plain serial nbgrader.

    .venv/bin/python benchmarks/grading_throughput.py [N]   # N copies of chapter 0 (default 8)

Both sides grade the same N copies of chapter 0's solved notebook, each in a fresh
temporary course (release done beforehand, not timed):

- ``grade-all``: `autograder.batch.grade_chapter` with 2 workers: sandboxed kernels,
  then recording, feedback and grades.csv (everything the command does);
- ``sandboxed grading only``: `autograder.grading.grade_files` with 2 workers, the
  grading phase of grade-all without recording, feedback and grades.csv;
- ``nbgrader autograde``: one plain, unsandboxed ``nbgrader autograde`` run over all
  students, one at a time (nbgrader's own way), nothing else.
Wall clock; figures vary with the machine and its load.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.batch import grade_chapter  # noqa: E402
from autograder.chapters import COURSE_DIR  # noqa: E402
from autograder.grading import grade_files  # noqa: E402
from autograder.nbgrader_run import autograde, generate_assignment  # noqa: E402
from tests.hostile_submissions import CHAPTER, SOURCE, solved  # noqa: E402


def course_with_copies(copies: int) -> Path:
    root = Path(tempfile.mkdtemp(prefix="grading-bench-"))
    course = root / "autograder"
    course.mkdir()
    shutil.copy2(COURSE_DIR / "nbgrader_config.py", course)
    shutil.copytree(SOURCE.parent, root / "notebooks" / CHAPTER)
    notebook = solved()
    for number in range(copies):
        folder = course / "submitted" / f"learner{number:03d}" / CHAPTER
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / SOURCE.name)
    generate_assignment(CHAPTER, course_dir=course)
    return course


def timed(label: str, copies: int, run) -> float:
    course = course_with_copies(copies)
    started = time.perf_counter()
    run(course)
    seconds = time.perf_counter() - started
    shutil.rmtree(course.parent, ignore_errors=True)
    print(f"{label:<44} {seconds:7.1f} s   {copies / seconds * 60:6.1f} notebooks/min", flush=True)
    return seconds


def main() -> None:
    copies = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    print(f"{copies} copies of {CHAPTER} (solved), wall clock")
    batch = timed(
        "grade-all (2 workers, sandboxed, + feedback/csv)",
        copies,
        lambda course: grade_chapter(CHAPTER, course_dir=course, workers=2, progress=False),
    )
    timed(
        "sandboxed grading only (2 workers)",
        copies,
        lambda course: grade_files(sorted(course.glob(f"submitted/*/{CHAPTER}/{SOURCE.name}")), CHAPTER, workers=2),
    )
    serial = timed(
        "nbgrader autograde (serial, unsandboxed)", copies, lambda course: autograde(CHAPTER, course_dir=course)
    )
    print(f"grade-all / nbgrader autograde throughput: {serial / batch:.2f}x")


if __name__ == "__main__":
    main()
