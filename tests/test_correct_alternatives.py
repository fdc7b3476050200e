"""Every correct alternative passes every visible and hidden check of its chapter.

For ``tests/correct_alternatives/<topic>/<name>.py`` (see that folder's README): each
graded test cell of the chapter's notebook that uses a name the alternative defines runs
as when a notebook is graded (tests/graded_cells.py). A check that rejects the
alternative fails this test with the learner-facing message.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests.graded_cells import defined_names, graded_cells_using, graded_namespace, run_cell
from tools.chapter_source import chapters_by_topic

ROOT = Path(__file__).resolve().parent.parent
ALTERNATIVES = sorted(ROOT.glob("tests/correct_alternatives/*/*.py"))
BY_TOPIC = chapters_by_topic()


ALTERNATIVES_PER_CHAPTER = 5  # at least: designs the statement allows, other than the reference's


def test_every_alternative_names_a_chapter() -> None:
    assert ALTERNATIVES, "no correct alternatives under tests/correct_alternatives/"
    assert {path.parent.name for path in ALTERNATIVES} <= set(BY_TOPIC)


def test_every_chapter_has_five_correct_alternatives() -> None:
    counts = {topic: sum(1 for path in ALTERNATIVES if path.parent.name == topic) for topic in BY_TOPIC}
    few = {topic: count for topic, count in counts.items() if count < ALTERNATIVES_PER_CHAPTER}
    assert not few, f"chapters with fewer than {ALTERNATIVES_PER_CHAPTER} correct alternatives: {few}"


@pytest.mark.parametrize("path", ALTERNATIVES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_alternative_passes_every_check(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chapter = BY_TOPIC[path.parent.name]
    notebook = nbformat.read(chapter.notebook, as_version=4)
    code = path.read_text(encoding="utf-8")
    namespace = graded_namespace(chapter, notebook, code, str(path))
    cells = graded_cells_using(notebook, defined_names(code))
    assert cells, f"no graded test cell of {chapter.notebook.name} uses {sorted(defined_names(code))}"
    for cell in cells:
        run_cell(chapter, cell, namespace)
