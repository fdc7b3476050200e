"""Cell constructors shared by every chapter's notebook builder (tools/build_chNN.py).

A builder lists a chapter's cells with these helpers and writes an nbgrader
*source* notebook. Solution cells are generated from the reference module in
``solutions/``: the cell is the reference function's exact source with its body
(after the docstring) inside ``### BEGIN SOLUTION`` / ``### END SOLUTION``, so the
notebook and the module cannot drift apart (tests/test_solutions_in_sync.py checks it).
"""

from __future__ import annotations

import argparse
import ast
import inspect
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
HIDDEN_TESTS_NOTE = "# More checks, hidden from you, run here when your notebook is graded."


def _src(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def _nbgrader(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: int | None = None) -> dict[str, Any]:
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


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(_src(text))


def code(text: str) -> nbformat.NotebookNode:
    return new_code_cell(_src(text))


def readonly_md(grade_id: str, text: str) -> nbformat.NotebookNode:
    """A markdown cell learners cannot edit (an exercise statement)."""
    return new_markdown_cell(_src(text), metadata=_nbgrader(grade_id, grade=False, solution=False, locked=True))


def readonly_code(grade_id: str, text: str) -> nbformat.NotebookNode:
    """A code cell learners cannot edit (imports the checks rely on)."""
    return new_code_cell(_src(text), metadata=_nbgrader(grade_id, grade=False, solution=False, locked=True))


def solution(grade_id: str, function: Callable[..., Any]) -> nbformat.NotebookNode:
    """The learner's cell: the reference function with its body marked as the solution."""
    return new_code_cell(
        solution_source(function), metadata=_nbgrader(grade_id, grade=False, solution=True, locked=False)
    )


def tests(grade_id: str, points: int, text: str) -> nbformat.NotebookNode:
    """A graded, locked test cell the learner sees and runs."""
    return new_code_cell(
        _src(text), metadata=_nbgrader(grade_id, grade=True, solution=False, locked=True, points=points)
    )


def hidden_tests(grade_id: str, points: int, visible: str, hidden: str) -> nbformat.NotebookNode:
    """A graded, locked test cell: ``visible`` checks the learner sees, then ``hidden`` ones
    removed from the learner's copy. The visible part makes the cell fail on an unsolved
    exercise, as ``nbgrader validate --invert`` expects."""
    body = "\n".join([_src(visible), HIDDEN_TESTS_NOTE, "### BEGIN HIDDEN TESTS", _src(hidden), "### END HIDDEN TESTS"])
    return new_code_cell(body, metadata=_nbgrader(grade_id, grade=True, solution=False, locked=True, points=points))


def solution_source(function: Callable[..., Any]) -> str:
    """The function's source with its body (after the docstring) in a solution region."""
    source = inspect.getsource(function).rstrip("\n")
    node = ast.parse(source).body[0]
    assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and ast.get_docstring(node), function
    after_docstring = node.body[0].end_lineno
    lines = source.split("\n")
    marked = lines[:after_docstring] + ["    ### BEGIN SOLUTION"] + lines[after_docstring:] + ["    ### END SOLUTION"]
    return "\n".join(marked)


def build_from_command_line(description: str, path: Path, cells: Callable[[], list[nbformat.NotebookNode]]) -> None:
    """A chapter builder's ``main``: write ``path`` from ``cells()``, and run it unless ``--no-run``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--no-run", action="store_true", help="write the notebook without executing it")
    args = parser.parse_args()
    write_notebook(path, cells(), execute=not args.no_run)


def write_notebook(path: Path, cells: list[nbformat.NotebookNode], *, execute: bool = True) -> None:
    """Write the source notebook with fixed cell ids, then run it in place to store outputs.

    ``path`` is ``notebooks/chNN_<name>/<topic>.ipynb``; the folder names the assignment."""
    assignment = path.parent.name
    chapter = int(assignment[2:4])
    notebook = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "course": {"chapter": chapter, "assignment": assignment},
        },
    )
    for number, cell in enumerate(notebook.cells):
        cell["id"] = f"{assignment[:4]}-{number:03d}"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    if execute:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "jupyter",
                "nbconvert",
                "--to",
                "notebook",
                "--execute",
                "--inplace",
                "--ExecutePreprocessor.record_timing=False",
                str(path),
            ],
            check=True,
            cwd=ROOT,
        )
        nbformat.write(coalesce_streams(nbformat.read(path, as_version=4)), path)


def coalesce_streams(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Merge consecutive outputs of the same stream in each cell.

    The kernel flushes stdout on a timer, so one print() can arrive in two pieces
    depending on timing; merging them makes the saved file the same on every run."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        merged: list[Any] = []
        for output in cell.outputs:
            previous = merged[-1] if merged else None
            if (
                output.output_type == "stream"
                and previous is not None
                and previous.output_type == "stream"
                and previous.name == output.name
            ):
                previous.text += output.text
            else:
                merged.append(output)
        cell.outputs = merged
    return notebook
