"""Run a chapter's graded test cells in-process, as nbgrader runs them when it grades a notebook.

A solution cell (a learner's, a wrong implementation, a correct alternative) runs in
:func:`graded_namespace` (the notebook's locked setup, then the reference module's
names, as if every other exercise were solved); then :func:`graded_cells_using` lists the
graded cells that exercise what it defines. Each cell is graded on its own: it scores 0
if it raises. :func:`graded_cell_run` runs one so and remembers what it raised, which
:func:`graded_cell_failure` gives again (several test files grade the same cells on the same
wrong implementations).
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
from typing import Any

import nbformat

from autograder.reference_run import reference_namespace
from tools.chapter_source import Chapter


def is_test(cell: nbformat.NotebookNode) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("grade"))


def graded_namespace(chapter: Chapter, notebook: nbformat.NotebookNode, code: str, filename: str) -> dict[str, Any]:
    """The notebook's locked setup cells (magics left out), the reference's names, then ``code``."""
    namespace = reference_namespace(notebook, chapter.topic)
    exec(compile(code, filename, "exec"), namespace)
    return namespace


def defined_names(code: str) -> set[str]:
    """The functions and classes ``code`` defines at its top level."""
    nodes = ast.parse(code).body
    return {node.name for node in nodes if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}


def graded_cells_using(notebook: nbformat.NotebookNode, names: set[str]) -> list[nbformat.NotebookNode]:
    """The graded test cells that mention one of ``names``."""
    return [
        cell
        for cell in notebook.cells
        if is_test(cell) and any(re.search(rf"\b{re.escape(name)}\b", cell.source) for name in names)
    ]


def run_cell(chapter: Chapter, cell: nbformat.NotebookNode, namespace: dict[str, Any]) -> None:
    """Run one graded cell (its hidden tests included); raises what the cell raises."""
    exec(compile(cell.source, f"{chapter.assignment} {cell.metadata.nbgrader.grade_id}", "exec"), namespace)


def errors_of(cell: nbformat.NotebookNode) -> list[str]:
    """What a cell shows as an error, as JupyterLab and nbgrader see it: its tracebacks and stderr."""
    return [
        output.get("text") or f"{output.get('ename')}: {output.get('evalue')}"
        for output in cell.get("outputs", [])
        if output.output_type == "error" or output.get("name") == "stderr"
    ]


_failures: dict[tuple[str, str, str], Exception | None] = {}  # (topic, grade id, code) -> what the cell raised


def graded_cell_run(
    chapter: Chapter, notebook: nbformat.NotebookNode, cell: nbformat.NotebookNode, code: str, filename: str
) -> tuple[Exception | None, dict[str, Any]]:
    """Run graded ``cell`` in a new :func:`graded_namespace` holding ``code`` (what it prints is not
    kept): what it raised (None: its checks pass), and the namespace after it, as the kernel has it
    when the cell's hidden scenarios run. What it raised is remembered for this test run."""
    namespace = graded_namespace(chapter, notebook, code, filename)
    failure: Exception | None = None
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            run_cell(chapter, cell, namespace)
    except Exception as error:  # noqa: BLE001  (a cell that raises scores 0; the caller reads why)
        failure = error
    _failures[(chapter.topic, cell.metadata.nbgrader.grade_id, code)] = failure
    return failure, namespace


def graded_cell_failure(
    chapter: Chapter, notebook: nbformat.NotebookNode, cell: nbformat.NotebookNode, code: str, filename: str
) -> Exception | None:
    """What graded ``cell`` raises on ``code`` (None: its checks pass), as :func:`graded_cell_run`
    found it earlier in this test run, or runs it now."""
    key = (chapter.topic, cell.metadata.nbgrader.grade_id, code)
    if key not in _failures:
        graded_cell_run(chapter, notebook, cell, code, filename)
    return _failures[key]
