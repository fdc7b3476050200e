"""On the untouched release, every graded cell fails by naming the placeholder, run in-process.

A learner who runs a check before writing the exercise (or who left one exercise as
released) must read that the placeholder is still there, not a hint about a bug they
did not write. Each chapter's solution cells are stubbed as nbgrader releases them
(its own ``ClearSolutions``), then each graded cell runs as nbgrader runs it.
"""

from __future__ import annotations

import nbformat
import pytest
from nbgrader.preprocessors import ClearSolutions

from coursekit.checks import CheckFailed
from tests.graded_cells import graded_namespace, is_test, run_cell
from tools.chapter_source import Chapter, chapters

PLACEHOLDER = "the placeholder is still there"
CELLS = [
    pytest.param(chapter, cell.metadata["nbgrader"]["grade_id"], id=cell.metadata["nbgrader"]["grade_id"])
    for chapter in chapters()
    for cell in nbformat.read(chapter.notebook, as_version=4).cells
    if is_test(cell)
]


def released_answers(notebook: nbformat.NotebookNode) -> str:
    """The code of every solution cell as the release has it: nbgrader's stubs."""
    released, _ = ClearSolutions().preprocess(nbformat.from_dict(notebook), {})
    return "\n\n".join(
        cell.source
        for cell in released.cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")
    )


@pytest.mark.parametrize(("chapter", "grade_id"), CELLS)
def test_graded_cell_names_the_placeholder_on_the_release(
    chapter: Chapter, grade_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    notebook = nbformat.read(chapter.notebook, as_version=4)
    (cell,) = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    namespace = graded_namespace(chapter, notebook, released_answers(notebook), f"{chapter.assignment} release")
    with pytest.raises(CheckFailed) as failure:
        run_cell(chapter, cell, namespace)
    assert PLACEHOLDER in failure.value.observed, f"on the release, {grade_id} says:\n{failure.value}"
