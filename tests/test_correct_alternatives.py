"""Every correct alternative passes every visible and hidden check of its chapter.

For ``tests/correct_alternatives/<topic>/<name>.py`` (see that folder's README): the
chapter notebook's locked setup cells run, then the reference module's names and the
alternative's code; then each graded test cell that uses a name the alternative defines
runs as it does when a notebook is graded. A check that rejects the alternative fails
this test with the learner-facing message.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tools.chapter_source import Chapter, chapters

ROOT = Path(__file__).resolve().parent.parent
ALTERNATIVES = sorted(ROOT.glob("tests/correct_alternatives/*/*.py"))
BY_TOPIC = {chapter.topic: chapter for chapter in chapters()}


def defined_names(code: str) -> set[str]:
    """The functions and classes a file defines at its top level."""
    nodes = ast.parse(code).body
    return {node.name for node in nodes if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}


def graded_namespace(chapter: Chapter, notebook: nbformat.NotebookNode) -> dict[str, Any]:
    """What a graded notebook's test cells see before the learner's cells: setup, then the reference."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("locked") and not _is_test(cell):
            code = "\n".join(line for line in cell.source.splitlines() if not line.startswith("%"))
            exec(compile(code, f"{chapter.assignment} setup", "exec"), namespace)
    namespace.update(
        {k: v for k, v in vars(importlib.import_module(f"solutions.{chapter.topic}")).items() if not k.startswith("__")}
    )
    return namespace


def _is_test(cell: nbformat.NotebookNode) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("grade"))


def test_every_alternative_names_a_chapter() -> None:
    assert ALTERNATIVES, "no correct alternatives under tests/correct_alternatives/"
    assert {path.parent.name for path in ALTERNATIVES} <= set(BY_TOPIC)


@pytest.mark.parametrize("path", ALTERNATIVES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_alternative_passes_every_check(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chapter = BY_TOPIC[path.parent.name]
    notebook = nbformat.read(chapter.notebook, as_version=4)
    namespace = graded_namespace(chapter, notebook)
    code = path.read_text(encoding="utf-8")
    exec(compile(code, str(path), "exec"), namespace)
    names = defined_names(code)
    cells = [
        cell
        for cell in notebook.cells
        if _is_test(cell) and any(re.search(rf"\b{re.escape(name)}\b", cell.source) for name in names)
    ]
    assert cells, f"no graded test cell of {chapter.notebook.name} uses {sorted(names)}"
    for cell in cells:
        exec(compile(cell.source, f"{chapter.assignment} {cell.metadata.nbgrader.grade_id}", "exec"), namespace)
