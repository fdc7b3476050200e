"""Where things are, and which chapters (nbgrader assignments) exist: those of the table of
contents (:mod:`coursekit.table_of_contents`) whose notebooks are in the source folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from coursekit.table_of_contents import ChapterEntry, chapter_entry, table_of_contents

REPO_ROOT = Path(__file__).resolve().parent.parent
COURSE_DIR_ENV = "ASYNCIO_COURSE_DIR"
COURSE_DIR = Path(os.environ[COURSE_DIR_ENV]).resolve() if os.environ.get(COURSE_DIR_ENV) else REPO_ROOT / "instructor"
"""nbgrader's course root: its nbgrader_config.py (in git), and what grading makes there (not in git):
gradebook.db, release/, submitted/, sandboxed/, autograded/, feedback/, exchange/, grades.csv.
``$ASYNCIO_COURSE_DIR`` (an absolute path) puts it elsewhere: the hub's shared course directory
(``course.py hub``, :mod:`hub.course_dir`), whose nbgrader_config.py loads this one's."""
SOURCE_DIR = REPO_ROOT / "notebooks"
WORKSPACE_DIR = REPO_ROOT / "workspace"


class UnknownChapter(ValueError):
    """A chapter name that is not a chapter of the course; the message lists those there are."""


@dataclass(frozen=True)
class Chapter:
    """One nbgrader assignment: ``notebooks/<assignment>/*.ipynb``."""

    assignment: str
    source: Path

    @property
    def notebooks(self) -> list[Path]:
        """The chapter's source notebooks, sorted by name."""
        return sorted(self.source.glob("*.ipynb"))

    @property
    def entry(self) -> ChapterEntry:
        """Its entry in the table of contents (KeyError if it has none)."""
        return chapter_entry(self.assignment)


def find_chapters(source_dir: Path = SOURCE_DIR) -> list[Chapter]:
    """The chapters of the table of contents, in its order, whose folder in ``source_dir``
    (``<assignment>/``) holds a notebook."""
    found = [Chapter(entry.assignment, source_dir / entry.assignment) for entry in table_of_contents()]
    return [chapter for chapter in found if chapter.notebooks]


def select_chapters(names: list[str], source_dir: Path = SOURCE_DIR) -> list[Chapter]:
    """The chapters named (all of them when ``names`` is empty); :class:`UnknownChapter` for unknown names."""
    chapters = find_chapters(source_dir)
    if not names:
        return chapters
    by_name = {chapter.assignment: chapter for chapter in chapters}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        known = ", ".join(by_name) or "none"
        raise UnknownChapter(f"no such chapter: {', '.join(unknown)} (chapters: {known})")
    return [by_name[name] for name in names]
