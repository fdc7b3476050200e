"""tools/chapter_source.py: markers become nbgrader cells; a source that cannot be built says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from coursekit.table_of_contents import ChapterEntry
from tools.chapter_source import HIDDEN_TESTS_NOTE, Chapter, ChapterSourceError, build_notebook

GOOD = """# %% [markdown] statement="ch99-ex1-statement"
# ## Exercise 1

# %% locked="ch99-setup"
import asyncio

# %% solution="ch99-ex1"
from solutions.timeouts import call_with_fallback, Deadline

# %% tests="ch99-ex1-tests" points=3
print("visible")
### BEGIN HIDDEN TESTS
print("hidden")
### END HIDDEN TESTS

# %%
print("plain")
"""


def chapter(tmp_path: Path, text: str) -> Chapter:
    (tmp_path / "ch99_timeouts.py").write_text(text, encoding="utf-8")
    return Chapter(
        ChapterEntry(99, "timeouts", "Timeouts again", "a throwaway chapter", "timeouts again", ()), tmp_path
    )


def test_markers_become_nbgrader_cells(tmp_path: Path) -> None:
    cells = build_notebook(chapter(tmp_path, GOOD)).cells
    roles = [(c.cell_type, c.metadata.get("nbgrader", {}).get("grade_id"), c.id) for c in cells]
    assert roles == [
        ("markdown", "ch99-ex1-statement", "ch99-000"),
        ("code", "ch99-setup", "ch99-001"),
        ("code", "ch99-ex1", "ch99-002"),
        ("code", "ch99-ex1-tests", "ch99-003"),
        ("code", None, "ch99-004"),
    ]
    statement, setup, solution, tests, _ = (c.metadata.get("nbgrader", {}) for c in cells)
    assert statement["locked"] and setup["locked"] and not setup["grade"]
    assert solution["solution"] and not solution["locked"]
    assert tests["grade"] and tests["points"] == 3 and tests["locked"]
    assert "async def call_with_fallback(" in cells[2].source and "class Deadline:" in cells[2].source
    assert cells[2].source.count("### BEGIN SOLUTION") == 6  # the function's body, and five methods
    assert f"{HIDDEN_TESTS_NOTE}\n### BEGIN HIDDEN TESTS" in cells[3].source
    tags = [c.metadata.get("tags", []) for c in cells]
    assert tags == [[], [], [], ["raises-exception"], []], "only test cells let Run All go on past an error"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('# %% solution="a"\nx = 1\n', "a solution cell is one line"),
        ('# %% tests="a"\nprint()\n', "points= goes with tests="),
        ('# %% locked="a" points=1\nprint()\n', "points= goes with tests="),
        ('# %% graded="a"\nprint()\n', "use one of"),
        ('# %% [markdown] locked="a"\n# text\n', "a markdown cell can only be a statement"),
        ('# %% locked="a"\nx = 1\n\n# %% tests="a" points=1\nprint()\n', "repeated: ['a']"),
        (
            '# %% tests="a" points=1\nprint(1)\n### BEGIN HIDDEN TESTS\nprint(\n    2,\n)\n### END HIDDEN TESTS\n',
            "keep each hidden statement on one line",
        ),
    ],
)
def test_a_source_that_cannot_be_built_says_why(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ChapterSourceError, match=message.replace("[", r"\[").replace("]", r"\]")):
        build_notebook(chapter(tmp_path, text))
