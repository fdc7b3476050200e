"""`python -m autograder grade`: one JSON object or a readable report; exit 2 only when it cannot grade."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.chapters import COURSE_DIR, select_chapters
from autograder.release import ensure_released
from tests.hostile_submissions import CHAPTER, SOURCE, solved

pytestmark = pytest.mark.slow  # left out by `course.py test --quick`


@pytest.fixture(scope="module", autouse=True)
def released() -> None:
    """`grade` grades against the instructor's current release, which is a step of its own."""
    ensure_released(select_chapters([CHAPTER]), COURSE_DIR)


def grade(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "autograder", "grade", *args],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
        env=env,
    )


def test_json_report_of_a_solved_notebook_found_from_the_notebook_itself(tmp_path: Path) -> None:
    path = tmp_path / "anything.ipynb"
    nbformat.write(solved(), path)
    result = grade(str(path), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) >= {"chapter", "score", "max_score", "tests"}
    assert (report["chapter"], report["score"], report["max_score"]) == ("ch00_asyncio_in_jupyter", 6, 6)
    for test in report["tests"]:
        assert set(test) == {"id", "points", "max_points", "passed", "message"} and test["passed"]
    assert report["review"] == [] and report["problem"] is None


def test_readable_report_names_failed_checks(tmp_path: Path) -> None:
    notebook = solved()
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("solution") and "fetch_all" in cell.source:
            cell.source = "async def fetch_all(delays):\n    return 0.0\n"
    path = tmp_path / "partly.ipynb"
    nbformat.write(notebook, path)
    result = grade(str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ch00_asyncio_in_jupyter: 3 / 6 points")
    assert "✗ ch00-fetch-all-tests: 0 / 1" in result.stdout and "FAILED" in result.stdout


def test_it_cannot_grade_a_missing_file_or_a_foreign_notebook(tmp_path: Path) -> None:
    missing = grade(str(tmp_path / "missing.ipynb"))
    assert missing.returncode == 2 and "no such file" in missing.stderr and not missing.stdout
    foreign = tmp_path / "foreign.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")]), foreign)
    result = grade(str(foreign))
    assert result.returncode == 2 and "not a notebook of this course" in result.stderr


def test_an_unreadable_file_named_for_a_chapter_scores_zero_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_bytes(SOURCE.read_bytes()[:100])
    result = grade(str(path), "--chapter", "ch00_asyncio_in_jupyter", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["score"] == 0 and "not valid JSON" in report["problem"]


def test_without_bubblewrap_it_refuses_unless_unsafe_and_then_says_so(tmp_path: Path) -> None:
    path = tmp_path / "solved.ipynb"
    nbformat.write(solved(), path)
    no_bwrap = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # bwrap is in /usr/bin
    refused = grade(str(path), env=no_bwrap)
    assert refused.returncode == 2 and not refused.stdout
    assert "no sandbox: bubblewrap (bwrap) is not installed" in refused.stderr and "--unsafe" in refused.stderr
    unsafe = grade(str(path), "--unsafe", "--json", env=no_bwrap)
    assert unsafe.returncode == 0, unsafe.stderr
    report = json.loads(unsafe.stdout)
    assert report["score"] == 6 and "graded with --unsafe: no sandbox" in report["problem"]
