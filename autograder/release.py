"""Release chapters: build the student version of each with nbgrader."""

from __future__ import annotations

from pathlib import Path

from autograder.chapters import COURSE_DIR, Chapter
from autograder.nbgrader_run import nbgrader_api, require_success


def release_dir(chapter: Chapter, course_dir: Path = COURSE_DIR) -> Path:
    """Where nbgrader puts the student version of ``chapter``."""
    return course_dir / "release" / chapter.assignment


def is_released(chapter: Chapter, course_dir: Path = COURSE_DIR) -> bool:
    """True if every source notebook has a release at least as new as itself."""
    for source in chapter.notebooks:
        released = release_dir(chapter, course_dir) / source.name
        if not released.exists() or released.stat().st_mtime < source.stat().st_mtime:
            return False
    return True


def release(chapters: list[Chapter], course_dir: Path = COURSE_DIR) -> list[Path]:
    """``nbgrader generate_assignment --force`` for each chapter; return their release folders.

    Through nbgrader's Python API, all in this process: one nbgrader start-up rather than
    one per chapter (the first ``course.py start`` releases every chapter)."""
    with nbgrader_api(course_dir) as api:
        for chapter in chapters:
            result = api.generate_assignment(chapter.assignment, force=True)
            require_success(result, f"nbgrader generate_assignment {chapter.assignment}", course_dir)
    return [release_dir(chapter, course_dir) for chapter in chapters]
