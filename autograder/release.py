"""Release chapters: build the student version of each with nbgrader."""

from __future__ import annotations

from pathlib import Path

from autograder.chapters import COURSE_DIR, Chapter
from autograder.nbgrader_run import generate_assignment


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
    """Generate (again, with --force) the release of each chapter; return their folders."""
    return [generate_assignment(chapter.assignment, course_dir) for chapter in chapters]
