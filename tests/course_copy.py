"""A throwaway copy of the instructor's course directory with one chapter released in it, for tests
that grade or record without touching ``instructor/``."""

from __future__ import annotations

import shutil
from pathlib import Path

from autograder.chapters import COURSE_DIR, Chapter
from autograder.kit import GradingKit, load_kit
from autograder.release import ensure_released


def released_course(root: Path, source: Path) -> tuple[Path, GradingKit]:
    """``root/instructor`` (the course's nbgrader_config.py) with the chapter whose source notebook
    folder is ``source`` copied to ``root/notebooks/`` and released; the course folder and the kit."""
    course = root / "instructor"
    course.mkdir(parents=True)
    shutil.copy2(COURSE_DIR / "nbgrader_config.py", course)
    chapter = Chapter(source.name, root / "notebooks" / source.name)
    shutil.copytree(source, chapter.source, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    ensure_released([chapter], course)
    return course, load_kit(chapter, course)
