"""The course's table of contents, ``course.toml``: which chapters exist, in which order.

It is the one place that says what a chapter is. The build (``tools/chapter_source.py``),
the autograder (``autograder/chapters.py``), the sandbox's import allow-list, the course
home page and the tests all read it; nothing decides a chapter from a file name.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TABLE_OF_CONTENTS = Path(__file__).resolve().parent.parent / "course.toml"
ALWAYS_IMPORTABLE = ("coursekit",)
"""Third-party packages every chapter may import, beyond those its entry lists."""
TOPIC = re.compile(r"[a-z][a-z0-9_]*")


class TableOfContentsError(ValueError):
    """A ``course.toml`` that cannot be read as a table of contents; the message says where."""


@dataclass(frozen=True)
class ChapterEntry:
    """One ``[[chapter]]`` of ``course.toml``.

    ``topic`` names the chapter's notebook, reference module (``solutions/<topic>.py``) and
    package (``coursekit/chapters/<topic>/``); ``learn`` is what a learner takes away, ``covers``
    what the chapter holds (the README's table of chapters); ``imports`` are the third-party
    packages (top-level names) its notebook and a learner's answers may import, beyond the
    standard library and :data:`ALWAYS_IMPORTABLE`."""

    number: int
    topic: str
    title: str
    learn: str
    covers: str
    imports: tuple[str, ...]

    @property
    def assignment(self) -> str:
        """``ch02_worker_pools``: the nbgrader assignment, the chapter's folder and source name."""
        return f"ch{self.number:02d}_{self.topic}"

    @property
    def importable(self) -> frozenset[str]:
        """Every third-party package this chapter may import."""
        return frozenset((*ALWAYS_IMPORTABLE, *self.imports))


FIELDS = ("number", "topic", "title", "learn", "covers", "imports")


def read_table_of_contents(path: Path) -> tuple[ChapterEntry, ...]:
    """The chapters of the file at ``path``, by number. Raises :class:`TableOfContentsError`
    naming the entry for a missing, unknown or mistyped field, or a number or topic used twice."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8")).get("chapter", [])
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise TableOfContentsError(f"{path}: {error}") from error
    entries = [_entry(path, index, fields) for index, fields in enumerate(raw)]
    for field in ("number", "topic"):
        values = [getattr(entry, field) for entry in entries]
        twice = sorted({str(value) for value in values if values.count(value) > 1})
        if twice:
            raise TableOfContentsError(f"{path}: more than one chapter has {field} {', '.join(twice)}")
    return tuple(sorted(entries, key=lambda entry: entry.number))


def _entry(path: Path, index: int, fields: dict[str, object]) -> ChapterEntry:
    where = f"{path}: chapter entry {index + 1}"
    wrong = sorted(set(fields) ^ set(FIELDS))
    if wrong:
        raise TableOfContentsError(f"{where}: expected the fields {', '.join(FIELDS)}; not these: {', '.join(wrong)}")
    number, topic, title, learn, covers, imports = (fields[name] for name in FIELDS)
    if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= 99:
        raise TableOfContentsError(f"{where}: number should be a whole number from 0 to 99, not {number!r}")
    if not isinstance(topic, str) or not TOPIC.fullmatch(topic):
        raise TableOfContentsError(f"{where}: topic should be a lower-case Python identifier, not {topic!r}")
    if not (isinstance(title, str) and isinstance(learn, str) and isinstance(covers, str)):
        raise TableOfContentsError(f"{where}: title, learn and covers should be text")
    if not isinstance(imports, list) or not all(isinstance(name, str) and name.isidentifier() for name in imports):
        raise TableOfContentsError(f"{where}: imports should list top-level package names, not {imports!r}")
    return ChapterEntry(number, topic, title, learn, covers, tuple(imports))


@cache
def table_of_contents() -> tuple[ChapterEntry, ...]:
    """The course's chapters (``course.toml`` at the repository root), by number."""
    return read_table_of_contents(TABLE_OF_CONTENTS)


def chapter_entry(assignment: str) -> ChapterEntry:
    """The entry of the chapter whose assignment is ``assignment``; KeyError naming the known ones."""
    for entry in table_of_contents():
        if entry.assignment == assignment:
            return entry
    known = ", ".join(entry.assignment for entry in table_of_contents())
    raise KeyError(f"{assignment} is not in course.toml (chapters: {known})")
