"""One source per solution: each notebook's solution cells are its reference module's functions.

A chapter notebook ``notebooks/<assignment>/<topic>.ipynb`` pairs with ``solutions/<topic>.py``;
removing the ``### BEGIN/END SOLUTION`` lines from a solution cell must give, function for
function, the reference source exactly.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted(Path(__file__).parent.parent.glob("notebooks/ch*/*.ipynb"))


def solution_cells(path: Path) -> list[str]:
    notebook = nbformat.read(path, as_version=4)
    return [
        cell.source
        for cell in notebook.cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")
    ]


def test_there_are_chapter_notebooks() -> None:
    assert NOTEBOOKS, "no notebooks found under notebooks/ch*/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_solution_cells_equal_the_reference_functions(path: Path) -> None:
    reference = importlib.import_module(f"solutions.{path.stem}")
    cells = solution_cells(path)
    assert cells, f"{path.name} has no solution cells"
    for cell in cells:
        source = "\n".join(
            line for line in cell.splitlines() if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
        )
        functions = [
            node for node in ast.parse(source).body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        ]
        assert functions, f"a solution cell of {path.name} defines no function"
        for node in functions:
            cell_function = ast.get_source_segment(source, node)
            assert hasattr(reference, node.name), f"solutions/{path.stem}.py has no {node.name}"
            assert cell_function == inspect.getsource(getattr(reference, node.name)).rstrip("\n"), (
                f"{node.name} in {path.name} differs from solutions/{path.stem}.py: rebuild the notebook"
            )
