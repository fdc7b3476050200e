"""Lint, format and types run clean over the whole repository (configuration: pyproject.toml).

- ruff's linter, and its formatter in check mode, over every Python file, the chapter
  sources included (``notebooks/`` is built from them, so it is excluded);
- mypy over ``coursekit/``, ``autograder/``, ``solutions/``, ``tools/``, ``tests/``,
  ``benchmarks/``, ``course.py`` and the code of the chapter sources.

A finding fails the test, which prints it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

COMMANDS = {
    "ruff check": [str(BIN / "ruff"), "check", "--no-cache", "."],
    "ruff format --check": [str(BIN / "ruff"), "format", "--check", "--no-cache", "."],
    "mypy": [str(BIN / "mypy"), "--no-incremental"],
}


@pytest.mark.parametrize("name", COMMANDS)
def test_runs_clean(name: str) -> None:
    result = subprocess.run(COMMANDS[name], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"`{name}` found problems:\n{result.stdout[-6000:]}{result.stderr[-2000:]}"
