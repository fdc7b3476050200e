"""Check my work runs every visible check of a chapter without stopping at the first failure,
prints a table per exercise, saves the learner's progress for the home page, and runs nothing
when grading."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from coursekit.check_my_work import GRADING_ENV, PROGRESS_DIR, WORKSPACE_ENV, checked_work
from tests.graded_cells import graded_namespace
from tools.chapter_source import chapters

CHAPTER = chapters(["ch03"])[0]  # four exercises, one of them a class with five graded cells
WRONG_COLLECT = """
async def collect_batch(queue, batch_size, max_wait):
    return [await queue.get()]  # ignores batch_size and max_wait
"""


@pytest.fixture
def chapter_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "workspace" / CHAPTER.assignment
    folder.mkdir(parents=True)
    (folder / CHAPTER.notebook.name).write_bytes(CHAPTER.notebook.read_bytes())
    monkeypatch.chdir(folder)
    monkeypatch.delenv(GRADING_ENV, raising=False)
    monkeypatch.setenv(WORKSPACE_ENV, str(folder.parent))
    return folder


def namespace_with(code: str) -> dict:
    notebook = nbformat.read(CHAPTER.notebook, as_version=4)
    return graded_namespace(CHAPTER, notebook, code, "learner's cell")


def test_every_exercise_is_checked_and_a_failure_stops_nothing(
    chapter_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = checked_work(CHAPTER.notebook.name, namespace_with(WRONG_COLLECT))
    assert report is not None
    titles = [exercise.title for exercise in report.exercises]
    assert len(titles) == 4 and all(title.startswith(f"Exercise {n}") for n, title in enumerate(titles, 1))
    first, *rest = report.exercises
    assert first.passed < len(first.cells), "the wrong collect_batch fails exercise 1's checks"
    assert all(exercise.passed == len(exercise.cells) for exercise in rest), "the other exercises were checked too"
    assert [len(exercise.cells) for exercise in report.exercises] == [2, 2, 5, 2]
    table = capsys.readouterr().out
    assert "✗ 0/2" in table and ": FAILED" in table and "hint:" in table
    assert "2 of 11 graded cells still fail: fix them before you submit." in table
    assert "✓" not in table.split("\n", 2)[2].split("Exercise 2")[0], "the ✓ lines of the checks stay out of the table"
    saved = json.loads((chapter_folder.parent / PROGRESS_DIR / f"{CHAPTER.assignment}.json").read_text())
    assert saved["chapter"] == CHAPTER.assignment and saved["failing_cells"] == 2


def test_all_passing_says_grading_adds_hidden_checks(chapter_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = checked_work(CHAPTER.notebook.name, namespace_with(""))
    assert report is not None and report.failing_cells == 0
    assert "All 11 graded cells pass their visible checks. Grading adds hidden checks." in capsys.readouterr().out


def test_nothing_runs_while_grading(chapter_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GRADING_ENV, "1")
    assert checked_work(CHAPTER.notebook.name, {}) is None  # an empty namespace would fail every check
    assert not (chapter_folder.parent / PROGRESS_DIR).exists()


def test_progress_is_saved_only_in_the_learners_workspace(
    chapter_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(WORKSPACE_ENV)
    assert checked_work(CHAPTER.notebook.name, namespace_with("")) is not None
    assert not (chapter_folder.parent / PROGRESS_DIR).exists()
