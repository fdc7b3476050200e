"""Release chapters: build the student version of each with nbgrader."""

from __future__ import annotations

import json
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from autograder.chapters import COURSE_DIR, Chapter
from autograder.nbgrader_run import nbgrader_api, require_success
from coursekit.version import course_version


def release_dir(chapter: Chapter, course_dir: Path = COURSE_DIR) -> Path:
    """Where nbgrader puts the student version of ``chapter``."""
    return course_dir / "release" / chapter.assignment


def is_released(chapter: Chapter, course_dir: Path = COURSE_DIR) -> bool:
    """True if every source notebook has a release at least as new as itself, recorded in the
    course's gradebook (which grading reads the test cells from)."""
    for source in chapter.notebooks:
        released = release_dir(chapter, course_dir) / source.name
        if not released.exists() or released.stat().st_mtime < source.stat().st_mtime:
            return False
    return recorded_notebooks(chapter, course_dir) >= {source.stem for source in chapter.notebooks}


def recorded_notebooks(chapter: Chapter, course_dir: Path = COURSE_DIR) -> set[str]:
    """The notebooks of ``chapter`` that the gradebook has a release of (none without a gradebook).

    Read with sqlite3 from nbgrader's tables: opening nbgrader's Gradebook would run alembic."""
    database = course_dir / "gradebook.db"
    if not database.is_file():
        return set()
    query = "SELECT notebook.name FROM notebook JOIN assignment ON notebook.assignment_id = assignment.id "
    query += "WHERE assignment.name = ?"
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
            return {name for (name,) in connection.execute(query, (chapter.assignment,))}
    except sqlite3.Error:  # not made by nbgrader yet (no tables)
        return set()


def ensure_released(chapters: list[Chapter], course_dir: Path = COURSE_DIR) -> None:
    """Release the chapters whose release is missing, stale or not in the gradebook, saying so on stderr."""
    stale = [chapter for chapter in chapters if not is_released(chapter, course_dir)]
    if stale:
        print(f"Releasing {', '.join(chapter.assignment for chapter in stale)} ...", file=sys.stderr)
        release(stale, course_dir)


def release(chapters: list[Chapter], course_dir: Path = COURSE_DIR) -> list[Path]:
    """``nbgrader generate_assignment --force`` for each chapter; return their release folders.

    Through nbgrader's Python API, all in this process: one nbgrader start-up rather than
    one per chapter (the first ``course.py start`` releases every chapter)."""
    with nbgrader_api(course_dir) as api:
        for chapter in chapters:
            result = api.generate_assignment(chapter.assignment, force=True)
            require_success(result, f"nbgrader generate_assignment {chapter.assignment}", course_dir)
            stamp_version(release_dir(chapter, course_dir))
    return [release_dir(chapter, course_dir) for chapter in chapters]


def stamp_version(folder: Path) -> None:
    """Write the course's version into each released notebook's metadata (``course.released_by``):
    the learner's copy carries it, so grading can tell which version released what it grades."""
    for path in sorted(folder.glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        notebook.setdefault("metadata", {}).setdefault("course", {})["released_by"] = course_version()
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
