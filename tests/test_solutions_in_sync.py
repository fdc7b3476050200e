"""One source per solution: each solution cell holds reference objects exactly as ``solutions/<topic>.py`` has them.

The build copies them (tools/solution_regions.py); this test reads the built notebooks
independently, so a notebook saved by hand, or a reference changed without a rebuild, fails.
Functions and classes are compared with their solution-region markers removed.
"""

from __future__ import annotations

import ast
import importlib
import inspect

import nbformat
import pytest

from tools.chapter_source import Chapter, chapters
from tools.solution_regions import without_markers

CHAPTERS = chapters()


def solution_cells(chapter: Chapter) -> list[str]:
    notebook = nbformat.read(chapter.notebook, as_version=4)
    return [
        cell.source
        for cell in notebook.cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")
    ]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.assignment)
def test_solution_cells_equal_the_reference(chapter: Chapter) -> None:
    reference = importlib.import_module(f"solutions.{chapter.topic}")
    cells = solution_cells(chapter)
    assert cells, f"{chapter.notebook.name} has no solution cells"
    for cell in cells:
        source = without_markers(cell)
        objects = [
            node
            for node in ast.parse(source).body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        ]
        assert objects, f"a solution cell of {chapter.notebook.name} defines no function or class"
        for node in objects:
            assert hasattr(reference, node.name), f"solutions/{chapter.topic}.py has no {node.name}"
            expected = without_markers(inspect.getsource(getattr(reference, node.name)).rstrip("\n"))
            assert ast.get_source_segment(source, node) == expected, (
                f"{node.name} in {chapter.notebook.name} differs from solutions/{chapter.topic}.py: "
                f"run `.venv/bin/python tools/build.py {chapter.assignment[:4]}`"
            )
