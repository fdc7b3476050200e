"""The reference solutions pass every graded cell of their chapter, run in-process.

One test per graded cell (visible and hidden checks), as nbgrader runs it when it grades a
notebook whose every solution cell holds the reference. This is also the test that
mutation testing (tools/mutation_report.py) runs against each mutant of ``solutions/``:
a mutant that passes every cell is a wrong program the checks let through.
"""

from __future__ import annotations

import nbformat
import pytest

from tests.graded_cells import graded_namespace, is_test, run_cell
from tools.chapter_source import Chapter, chapters

CELLS = [
    pytest.param(chapter, cell.metadata["nbgrader"]["grade_id"], id=cell.metadata["nbgrader"]["grade_id"])
    for chapter in chapters()
    for cell in nbformat.read(chapter.notebook, as_version=4).cells
    if is_test(cell)
]


@pytest.mark.parametrize(("chapter", "grade_id"), CELLS)
def test_reference_passes_graded_cell(chapter: Chapter, grade_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    notebook = nbformat.read(chapter.notebook, as_version=4)
    (cell,) = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    run_cell(chapter, cell, graded_namespace(chapter, notebook, "", f"{chapter.assignment} solutions"))
