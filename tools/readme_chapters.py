"""The README's table of chapters, written from the table of contents (``course.toml``).

The table sits between two marker lines of ``README.md``; ``tools/build.py`` rewrites it, and
``tests/test_table_of_contents.py`` fails when it is not what ``course.toml`` says."""

from __future__ import annotations

from pathlib import Path

from coursekit.table_of_contents import ChapterEntry

START = "<!-- chapters: written by tools/build.py from course.toml -->"
END = "<!-- end of chapters -->"


class MarkersMissing(ValueError):
    """The README has no place for the table: its two marker lines are missing or out of order."""


def chapter_table(entries: tuple[ChapterEntry, ...]) -> str:
    """The markdown table: number, assignment, and what the chapter covers."""
    rows = [f"| {entry.number} | `{entry.assignment}` | {entry.covers} |" for entry in entries]
    return "\n".join(["| # | assignment | chapter |", "|---|---|---|", *rows])


def with_chapter_table(readme: str, entries: tuple[ChapterEntry, ...]) -> str:
    """``readme`` with the text between its markers replaced by :func:`chapter_table`."""
    start, end = readme.find(START), readme.find(END)
    if start < 0 or end < start:
        raise MarkersMissing(f"README.md needs the lines {START!r} and {END!r}, in that order")
    return readme[: start + len(START)] + "\n\n" + chapter_table(entries) + "\n\n" + readme[end:]


def write_chapter_table(readme: Path, entries: tuple[ChapterEntry, ...]) -> None:
    """Rewrite ``readme``'s table of chapters (the file is left alone when it is already current)."""
    text = readme.read_text(encoding="utf-8")
    new = with_chapter_table(text, entries)
    if new != text:
        readme.write_text(new, encoding="utf-8")
