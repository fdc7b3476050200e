"""Each chapter notebook is what its builder (tools/build_chNN.py) writes: edit the builder, not the notebook."""

from __future__ import annotations

import importlib
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).parent.parent
BUILDERS = sorted(ROOT.glob("tools/build_ch*.py"))


def test_every_chapter_notebook_has_a_builder() -> None:
    built = {importlib.import_module(f"tools.{path.stem}").NOTEBOOK for path in BUILDERS}
    assert set(ROOT.glob("notebooks/ch*/*.ipynb")) == built


@pytest.mark.parametrize("builder", BUILDERS, ids=lambda p: p.stem)
def test_notebook_cells_match_the_builder(builder: Path) -> None:
    module = importlib.import_module(f"tools.{builder.stem}")
    saved = nbformat.read(module.NOTEBOOK, as_version=4).cells
    expected = module.cells()
    assert [(c.cell_type, c.source, c.metadata) for c in saved] == [
        (c.cell_type, c.source, c.metadata) for c in expected
    ], (
        f"{module.NOTEBOOK.relative_to(ROOT)} differs from what {builder.name} writes: "
        f"run `.venv/bin/python tools/{builder.name}`"
    )
