"""The README's table of what the test suite checks names every test file."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).parents[1]


def test_every_test_file_is_in_the_readme_table() -> None:
    readme = (REPO / "README.md").read_text()
    table = [line for line in readme.splitlines() if line.startswith("| `tests/") or line.startswith("| `notebooks/")]
    described = "\n".join(table)
    missing = sorted(path.stem for path in (REPO / "tests").glob("test_*.py") if path.stem not in described)
    assert table, "README.md has no table of test files (rows starting with | `tests/...)"
    assert not missing, f"README.md's test table does not say what these check: {missing}"
