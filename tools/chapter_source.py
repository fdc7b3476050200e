"""A chapter's text source, ``chapters/chNN_<topic>.py`` (jupytext py:percent), as an nbgrader notebook.

Which chapters there are, and their numbers and topics, is the table of contents' to say
(:mod:`coursekit.table_of_contents`).

Cells are separated by ``# %%`` lines. A marker after ``# %%`` gives a cell its
nbgrader role:

=====================================  ===============================================
marker                                 the cell in the built notebook
=====================================  ===============================================
``# %% [markdown] statement="ID"``     an exercise statement, locked
``# %% locked="ID"``                   given code the learner cannot edit (the setup)
``# %% solution="ID"``                 the learner's cell; its source is one line,
                                       ``from solutions.<topic> import a, b``, replaced
                                       by the sources of ``a`` and ``b`` with their
                                       solution regions (tools/solution_regions.py)
``# %% tests="ID" points=N``           graded, locked checks; a
                                       ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN
                                       TESTS`` part is removed from the release; tagged
                                       ``raises-exception``, so that Run All goes on
                                       past a failing check
=====================================  ===============================================

Cells without a marker are plain markdown or code. ``name="..."`` names a cell so
that other code can reuse it (:func:`named_cell`). Cell ids are fixed
(``chNN-000``, ``chNN-001``, ...), so a rebuild gives the same file.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jupytext
import nbformat
from nbformat.v4 import new_notebook

from coursekit.table_of_contents import ChapterEntry, table_of_contents
from tools.solution_regions import solution_source

# nbformat's cell constructors are unannotated; each returns a NotebookNode.
new_code_cell: Callable[..., nbformat.NotebookNode] = nbformat.v4.new_code_cell
new_markdown_cell: Callable[..., nbformat.NotebookNode] = nbformat.v4.new_markdown_cell

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
HIDDEN_TESTS_NOTE = "# More checks, hidden from you, run here when your notebook is graded."
ROLES = ("statement", "locked", "solution", "tests")
RUN_ALL_GOES_ON = "raises-exception"  # the tag of every graded test cell
# What jupytext itself keeps about the text layout (blank lines between cells): not a marker.
LAYOUT_KEYS = ("lines_to_next_cell", "lines_to_end_of_cell_marker", "cell_marker")


class ChapterSourceError(ValueError):
    """A chapter source that cannot be built; the message names the file and cell."""


@dataclass(frozen=True)
class Chapter:
    """One chapter of the table of contents: its text source (in ``sources``) and where its notebook goes."""

    entry: ChapterEntry
    sources: Path = CHAPTERS

    @property
    def assignment(self) -> str:
        """``ch02_worker_pools``: the nbgrader assignment."""
        return self.entry.assignment

    @property
    def number(self) -> int:
        return self.entry.number

    @property
    def topic(self) -> str:
        """``worker_pools``: the names of the notebook, the reference module and the checks."""
        return self.entry.topic

    @property
    def source(self) -> Path:
        """``chapters/<assignment>.py``."""
        return self.sources / f"{self.assignment}.py"

    @property
    def notebook(self) -> Path:
        return ROOT / "notebooks" / self.assignment / f"{self.topic}.ipynb"


def chapters(names: list[str] | None = None) -> list[Chapter]:
    """Every chapter of the table of contents, or those whose assignment starts with one of ``names``."""
    found = [Chapter(entry) for entry in table_of_contents()]
    if not names:
        return found
    chosen = [chapter for chapter in found if any(chapter.assignment.startswith(name) for name in names)]
    unknown = [name for name in names if not any(c.assignment.startswith(name) for c in found)]
    if unknown:
        known = ", ".join(chapter.assignment for chapter in found)
        raise ChapterSourceError(f"no chapter in course.toml matches {', '.join(unknown)} (chapters: {known})")
    return chosen


def chapters_by_topic() -> dict[str, Chapter]:
    """Every chapter, keyed by its topic (``worker_pools``: the folder name its tests use)."""
    return {chapter.topic: chapter for chapter in chapters()}


def read_cells(chapter: Chapter) -> list[nbformat.NotebookNode]:
    """The source's cells as jupytext reads them (markers still in the metadata)."""
    return list(jupytext.read(chapter.source, fmt="py:percent").cells)


def named_cell(chapter: Chapter, name: str) -> str:
    """The code of the cell marked ``name="NAME"``, for code that reuses a chapter's cell."""
    for cell in read_cells(chapter):
        if cell.metadata.get("name") == name:
            return str(cell.source)
    raise ChapterSourceError(f"{chapter.source.name} has no cell marked name={name!r}")


def build_notebook(chapter: Chapter) -> nbformat.NotebookNode:
    """The nbgrader source notebook of ``chapter``, without outputs."""
    cells = [_nbgrader_cell(chapter, number, cell) for number, cell in enumerate(read_cells(chapter))]
    notebook: nbformat.NotebookNode = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "course": {"chapter": chapter.number, "assignment": chapter.assignment},
        },
    )
    for number, cell in enumerate(notebook.cells):
        cell["id"] = f"{chapter.assignment[:4]}-{number:03d}"
    grade_ids = [cell.metadata["nbgrader"]["grade_id"] for cell in notebook.cells if "nbgrader" in cell.metadata]
    repeated = sorted({grade_id for grade_id in grade_ids if grade_ids.count(grade_id) > 1})
    if repeated:
        raise ChapterSourceError(f"{chapter.source.name}: each grade id must be used once; repeated: {repeated}")
    return notebook


def _nbgrader_cell(chapter: Chapter, number: int, cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    where = f"{chapter.source.name}, cell {number}"
    marker = {key: value for key, value in cell.metadata.items() if key not in ("name", *LAYOUT_KEYS)}
    roles = [role for role in ROLES if role in marker]
    points = marker.pop("points", None)
    unknown = set(marker) - set(ROLES)
    if unknown or len(roles) > 1:
        raise ChapterSourceError(f"{where}: markers {sorted(cell.metadata)}; use one of {', '.join(ROLES)}")
    source = str(cell.source)
    if cell.cell_type == "markdown":
        if roles and roles != ["statement"]:
            raise ChapterSourceError(f"{where}: a markdown cell can only be a statement, not {roles[0]}")
        if roles:
            return new_markdown_cell(source, metadata=_grading(marker["statement"], locked=True))
        return new_markdown_cell(source)
    if not roles:
        return new_code_cell(source)
    role, grade_id = roles[0], marker[roles[0]]
    if (role == "tests") != (points is not None):
        raise ChapterSourceError(f"{where}: points= goes with tests= and only there")
    if role == "statement":
        raise ChapterSourceError(f"{where}: statement= marks a markdown cell; use locked= for code")
    if role == "locked":
        return new_code_cell(source, metadata=_grading(grade_id, locked=True))
    if role == "solution":
        return new_code_cell(_solution_cell(where, source), metadata=_grading(grade_id, solution=True, locked=False))
    _require_one_line_statements(where, source)
    body = source.replace("### BEGIN HIDDEN TESTS", f"{HIDDEN_TESTS_NOTE}\n### BEGIN HIDDEN TESTS", 1)
    # JupyterLab's Run All goes on past a cell tagged raises-exception: an unsolved exercise's
    # failing check does not hide the rest of the chapter (nbgrader still scores it 0).
    metadata = {**_grading(grade_id, grade=True, locked=True, points=points), "tags": [RUN_ALL_GOES_ON]}
    return new_code_cell(body, metadata=metadata)


def _require_one_line_statements(where: str, source: str) -> None:
    """Every line of a hidden-test region is a comment or a whole statement: the feedback removes
    output lines that quote a hidden line, which only works for lines long enough to be told apart
    from ordinary text (a call split over lines leaves lines such as ``limit=5,``)."""
    inside = False
    for line in source.splitlines():
        text = line.strip()
        if text.startswith("### BEGIN HIDDEN TESTS") or text.startswith("### END HIDDEN TESTS"):
            inside = text.startswith("### BEGIN")
            continue
        if not inside or not text or text.startswith("#"):
            continue
        try:
            ast.parse(text)
        except SyntaxError:
            raise ChapterSourceError(
                f"{where}: keep each hidden statement on one line (`# fmt: off` around the region), "
                f"not {text!r}: the feedback could not hide a fragment that short"
            ) from None


def _grading(
    grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool, points: int | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "grade": grade,
        "solution": solution,
        "locked": locked,
        "grade_id": grade_id,
        "schema_version": 3,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _solution_cell(where: str, source: str) -> str:
    """``from solutions.<topic> import a, b`` -> the sources of ``a`` and ``b``, regions marked."""
    statements = ast.parse(source).body
    if len(statements) != 1 or not isinstance(statements[0], ast.ImportFrom):
        raise ChapterSourceError(f"{where}: a solution cell is one line, `from solutions.<topic> import ...`")
    statement = statements[0]
    if not (statement.module or "").startswith("solutions."):
        raise ChapterSourceError(f"{where}: a solution cell imports from solutions.<topic>")
    module = importlib.import_module(statement.module or "")
    return "\n\n\n".join(solution_source(getattr(module, alias.name)) for alias in statement.names)
