"""Nothing a learner receives, and nothing the grader needs, can reach the answers in ``solutions/``.

- no module of ``coursekit/`` or ``autograder/`` imports ``solutions``, but one:
  ``autograder/reference_run.py``, which has the reference observe a batch's hidden scenarios
  on the instructor's machine, in a process of its own (never in a sandbox: it is not in
  ``autograder/inside/``, the only part of ``autograder`` a sandbox sees);
- no cell of any chapter notebook imports it (so neither does the release built from them);
- the course environment does not install ``solutions``: a kernel started outside the
  repository (a learner's, in ``workspace/``) cannot import it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_RUN = ROOT / "autograder" / "reference_run.py"
SHIPPED = sorted({*ROOT.glob("coursekit/**/*.py"), *ROOT.glob("autograder/**/*.py")} - {REFERENCE_RUN})
NOTEBOOKS = sorted(ROOT.glob("notebooks/ch*/*.ipynb"))


def imports_solutions(source: str) -> list[str]:
    """The lines of ``source`` (Python) that import ``solutions`` or name it in a string."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("solutions."):
            names = [node.value]
        if any(name == "solutions" or name.startswith("solutions.") for name in names):
            found.append(ast.get_source_segment(source, node) or str(names))
    return found


def test_the_detector_finds_imports() -> None:
    assert imports_solutions("from solutions.batching import MicroBatcher")
    assert imports_solutions("import solutions")
    assert imports_solutions("importlib.import_module('solutions.worker_pools')")
    assert not imports_solutions("from coursekit.traces import reference_run  # solutions/ is not shipped")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_module_does_not_import_solutions(path: Path) -> None:
    assert not imports_solutions(path.read_text(encoding="utf-8")), f"{path.relative_to(ROOT)} imports solutions"


def test_only_the_reference_run_imports_the_reference_and_no_sandbox_sees_it() -> None:
    assert imports_solutions(REFERENCE_RUN.read_text(encoding="utf-8"))
    assert ROOT / "autograder" / "inside" not in REFERENCE_RUN.parents


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_notebook_does_not_import_solutions(path: Path) -> None:
    to_python = TransformerManager().transform_cell  # magics (%matplotlib) become plain Python
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            assert not imports_solutions(to_python(cell.source)), f"{path.name}, cell {cell.id} imports solutions"


def test_a_kernel_outside_the_repository_cannot_import_solutions(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import coursekit.traces, solutions"], cwd=tmp_path, capture_output=True, text=True
    )
    assert "No module named 'solutions'" in result.stderr, (result.returncode, result.stderr[-500:])
