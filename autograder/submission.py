"""Read a learner's notebook file without trusting it, and find which chapter it belongs to.

Nothing here runs learner code. Every way a file can be broken (missing, empty, not
UTF-8, not JSON, not a notebook, an old nbformat) becomes a :class:`Submission` whose
``problem`` says so in plain words, so it can be graded 0 with that reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.chapters import Chapter, find_chapters

MAX_BYTES = 64 * 1024**2


class NotGradable(Exception):
    """The file cannot be graded at all: bad path, or not a notebook of this course."""


@dataclass(frozen=True)
class Submission:
    """A notebook as read from disk, or the reason it could not be read."""

    path: Path
    notebook: nbformat.NotebookNode | None
    problem: str | None


def read_submission(path: Path) -> Submission:
    """Read ``path`` as a notebook, upgrading old nbformat versions to 4."""
    if not path.is_file():
        raise NotGradable(f"{path}: no such file")
    return parse_submission(path, path.read_bytes())


def parse_submission(path: Path, raw: bytes) -> Submission:
    """Read the bytes of a notebook file (``path`` names it in messages only)."""
    if not raw:
        return Submission(path, None, "the file is empty")
    if len(raw) > MAX_BYTES:
        return Submission(path, None, f"the file is {len(raw) // 1024**2} MB; a notebook of this course is far smaller")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return Submission(path, None, f"the file is not UTF-8 text (byte {error.start}); was it saved as a notebook?")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return Submission(
            path,
            None,
            f"the file is not valid JSON (line {error.lineno}, column {error.colno}): "
            "it may have been cut short or edited by hand",
        )
    except (RecursionError, ValueError) as error:  # nesting too deep; integers over Python's digit limit
        reason = "it nests too deeply" if isinstance(error, RecursionError) else str(error).split(";")[0]
        return Submission(path, None, f"the file is JSON that cannot be read as a notebook: {reason}")
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        return Submission(path, None, "the file is JSON but not a Jupyter notebook")
    try:
        notebook: nbformat.NotebookNode = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises many kinds for malformed notebooks
        return Submission(path, None, f"the notebook is malformed: {str(error).splitlines()[0][:200]}")
    return Submission(path, notebook, None)


def find_chapter(notebook: nbformat.NotebookNode, chapters: list[Chapter] | None = None) -> Chapter:
    """The chapter a notebook belongs to: its ``course.assignment`` metadata, or else the
    chapter whose source shares the most nbgrader cell ids with it."""
    chapters = find_chapters() if chapters is None else chapters
    by_name = {chapter.assignment: chapter for chapter in chapters}
    declared = notebook.metadata.get("course", {}).get("assignment")
    if declared in by_name:
        return by_name[declared]
    ids = {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in notebook.cells} - {None}
    best, shared = None, 0
    for chapter in chapters:
        source_ids = {
            cell.metadata.get("nbgrader", {}).get("grade_id")
            for path in chapter.notebooks
            for cell in nbformat.read(path, as_version=4).cells
        }
        if len(ids & source_ids) > shared:
            best, shared = chapter, len(ids & source_ids)
    if best is None:
        raise NotGradable(
            "this is not a notebook of this course: it names no chapter and has none of "
            "the chapters' cells (known chapters: " + ", ".join(by_name) + ")"
        )
    return best
