"""Each chapter notebook is what tools/build.py makes of its text source: edit chapters/, not notebooks/."""

from __future__ import annotations

import nbformat
import pytest

from tools.chapter_source import ROOT, Chapter, build_notebook, chapters

CHAPTERS = chapters()


def test_every_chapter_notebook_has_a_text_source() -> None:
    assert CHAPTERS, "no chapter sources under chapters/"
    assert set(ROOT.glob("notebooks/ch*/*.ipynb")) == {chapter.notebook for chapter in CHAPTERS}


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.assignment)
def test_notebook_cells_match_the_source(chapter: Chapter) -> None:
    saved = nbformat.read(chapter.notebook, as_version=4)
    expected = build_notebook(chapter)
    assert [(c.id, c.cell_type, c.source, c.metadata) for c in saved.cells] == [
        (c.id, c.cell_type, c.source, c.metadata) for c in expected.cells
    ], (
        f"{chapter.notebook.relative_to(ROOT)} differs from its source: "
        f"run `.venv/bin/python tools/build.py {chapter.assignment[:4]}`"
    )
    assert saved.metadata["course"] == expected.metadata["course"]
