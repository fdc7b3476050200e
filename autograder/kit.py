"""What grading a chapter needs, gathered once on the instructor's machine.

A :class:`GradingKit` is plain data (picklable, sent once to every Dask worker): the
release notebook with the test and locked cells as nbgrader recorded them in the
gradebook (hidden tests included), which cells are the learner's, the points, the
hidden-test lines to keep out of feedback, the release's files, and the batch's hidden
scenarios with the reference's observations of them (:mod:`autograder.hidden_scenarios`,
drawn from a fresh seed each time a kit is loaded).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from autograder.chapters import COURSE_DIR, Chapter
from autograder.hidden_scenarios import HiddenScenarios, prepare
from autograder.release import is_released, release_dir


class NotReleased(ValueError):
    """A chapter without a current release in the course directory: release it first."""


HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


@dataclass(frozen=True)
class GradingKit:
    assignment: str
    notebook_name: str
    template: dict[str, Any]  # the graded notebook before the learner's answers go in
    solution_ids: tuple[str, ...]  # grade ids of the learner's cells, in order
    course_cells: tuple[str, ...]  # cell ids of locked (course-owned) cells
    hidden_lines: tuple[str, ...]
    release_files: tuple[tuple[str, bytes], ...]
    hidden: HiddenScenarios
    importable: tuple[str, ...]  # third-party packages a learner's answer may import (course.toml)


def load_kit(chapter: Chapter, course_dir: Path = COURSE_DIR, seed: int | None = None) -> GradingKit:
    """The kit of ``chapter``, from its release (:func:`autograder.release.ensure_released` makes it).

    ``seed`` draws the hidden scenarios (a fresh random one when None). Raises :class:`NotReleased`
    when the chapter has no current release."""
    from nbgrader.api import Gradebook

    if not is_released(chapter, course_dir):
        raise NotReleased(
            f"{chapter.assignment} has no current release in {course_dir} (none yet, or its source changed since): "
            f"release it first with `python -m autograder release {chapter.assignment}`. Grading never releases: "
            "learners who fetched an earlier release would be graded on tests they were never given"
        )
    folder = release_dir(chapter, course_dir)
    entry = chapter.entry
    name = f"{entry.topic}.ipynb"
    template: nbformat.NotebookNode = nbformat.read(folder / name, as_version=4)
    hidden: set[str] = set()
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        for cell in template.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution") or not (meta.get("grade") or meta.get("locked")):
                continue
            source = gradebook.find_source_cell(meta["grade_id"], name.removesuffix(".ipynb"), chapter.assignment)
            cell.source = source.source
            for block in HIDDEN.findall(source.source):
                hidden |= {line.strip() for line in block.splitlines() if line.strip()}
    cells = template.cells
    graded = [c.metadata.nbgrader["grade_id"] for c in cells if c.cell_type == "code" and _meta(c).get("grade")]
    hidden_scenarios = prepare(entry.topic, dict(template), graded, secrets.randbits(63) if seed is None else seed)
    return GradingKit(
        assignment=chapter.assignment,
        notebook_name=name,
        template=dict(template),
        solution_ids=tuple(c.metadata.nbgrader["grade_id"] for c in cells if _meta(c).get("solution")),
        course_cells=tuple(c.id for c in cells if _meta(c).get("locked") and not _meta(c).get("solution")),
        hidden_lines=tuple(sorted(hidden)),
        release_files=tuple(
            (str(path.relative_to(folder)), path.read_bytes()) for path in sorted(folder.rglob("*")) if path.is_file()
        ),
        hidden=hidden_scenarios,
        importable=tuple(sorted(entry.importable)),
    )


def _meta(cell: nbformat.NotebookNode) -> dict[str, Any]:
    return dict(cell.metadata.get("nbgrader", {}))
