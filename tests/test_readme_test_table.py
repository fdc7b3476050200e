"""The README's table of what the test suite checks names every test file; a chapter's own
property tests, ``tests/test_<topic>.py``, are named by its row for every chapter."""

from __future__ import annotations

from pathlib import Path

from coursekit.table_of_contents import table_of_contents

REPO = Path(__file__).parents[1]


def test_every_test_file_is_in_the_readme_table() -> None:
    readme = (REPO / "README.md").read_text()
    table = [line for line in readme.splitlines() if line.startswith("| `tests/") or line.startswith("| `notebooks/")]
    described = "\n".join(table)
    per_chapter = (
        {f"test_{entry.topic}" for entry in table_of_contents()} if "`tests/test_<topic>.py`" in described else set()
    )
    missing = sorted(
        path.stem
        for path in (REPO / "tests").glob("test_*.py")
        if path.stem not in described and path.stem not in per_chapter
    )
    assert table, "README.md has no table of test files (rows starting with | `tests/...)"
    assert not missing, f"README.md's test table does not say what these check: {missing}"
