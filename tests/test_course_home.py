"""The course home page: the table of contents, each chapter's exercises and time read from its
notebook, and the learner's progress (last check, submitted, feedback) read from the workspace
and the exchange as nbgrader's own steps leave them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nbgrader.utils import notebook_hash

from autograder.chapters import find_chapters
from course_home.outline import outline
from course_home.page import render_home
from course_home.progress import chapter_progress
from coursekit.statements import HEADING, statement_title
from coursekit.table_of_contents import ChapterEntry

COURSE = "asyncio-course"
ENTRY = ChapterEntry(3, "batching", "Batching <b>", "learn <script>alert(1)</script>", "batches", ())
SOURCE = Path(__file__).parents[1] / "notebooks" / "ch03_batching" / "batching.ipynb"


@pytest.mark.parametrize("chapter", find_chapters(), ids=lambda chapter: chapter.assignment)
def test_each_exercise_has_the_points_its_statement_announces(chapter) -> None:
    notebook = chapter.notebooks[0]
    cells = json.loads(notebook.read_text())["cells"]
    announced = [
        float(heading[2].strip("()").split()[0])
        for cell in cells
        if statement_title(cell) and (heading := HEADING.search("".join(cell["source"])))
    ]
    found = outline(notebook)
    assert [exercise.points for exercise in found.exercises] == announced
    assert found.minutes % 15 == 0 and 30 <= found.minutes <= 180


def workspace_with_a_submission(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A learner's workspace with chapter 3 fetched and submitted once, and an empty exchange."""
    workspace, exchange = tmp_path / "ws", tmp_path / "exchange"
    (workspace / ENTRY.assignment).mkdir(parents=True)
    (workspace / ENTRY.assignment / SOURCE.name).write_bytes(SOURCE.read_bytes())
    submission = workspace / ".nbgrader_cache" / COURSE / f"ann+{ENTRY.assignment}+2026-12-06 10:00:00.000000 UTC"
    submission.mkdir(parents=True)
    (submission / SOURCE.name).write_text("{}")
    (submission / "submission_secret.txt").write_text("ab" * 64)
    (exchange / COURSE / "feedback").mkdir(parents=True)
    return workspace, exchange, submission


def test_progress_follows_check_submit_release_fetch(tmp_path: Path) -> None:
    workspace, exchange, submission = workspace_with_a_submission(tmp_path)
    before = chapter_progress(ENTRY, workspace, COURSE, exchange, None)
    assert before.notebook == f"{ENTRY.assignment}/{SOURCE.name}" and before.outline is not None
    assert before.checked is None and before.submitted_at == "2026-12-06 10:00:00.000000 UTC"
    assert before.feedback is None and not before.feedback_waiting

    (workspace / ".course_progress").mkdir()
    (workspace / ".course_progress" / f"{ENTRY.assignment}.json").write_text('{"failing_cells": 2, "exercises": []}')
    page = exchange / COURSE / "feedback" / f"{notebook_hash(secret='ab' * 64, notebook_id=SOURCE.stem)}.html"
    page.write_text("<p>feedback</p>")
    released = chapter_progress(ENTRY, workspace, COURSE, exchange, None)
    assert released.checked == {"failing_cells": 2, "exercises": []} and released.feedback_waiting

    fetched = workspace / ENTRY.assignment / "feedback" / "2026-12-06 10:00:00.000000 UTC" / f"{SOURCE.stem}.html"
    fetched.parent.mkdir(parents=True)
    fetched.write_text("<p>feedback</p>")
    after = chapter_progress(ENTRY, workspace, COURSE, exchange, None)
    assert after.feedback == str(fetched.relative_to(workspace)) and not after.feedback_waiting


def test_a_chapter_not_fetched_yet_shows_the_release_outline(tmp_path: Path) -> None:
    progress = chapter_progress(ENTRY, tmp_path, COURSE, None, SOURCE)
    assert progress.notebook is None and progress.outline is not None and len(progress.outline.exercises) == 4


def test_the_page_shows_progress_and_version_and_escapes_text(tmp_path: Path) -> None:
    workspace, exchange, _ = workspace_with_a_submission(tmp_path)
    (workspace / ".course_progress").mkdir()
    report = {
        "chapter": ENTRY.assignment,
        "failing_cells": 1,
        "exercises": [
            {"title": "Exercise 1 — collect one batch", "cells": [{"failure": None}, {"failure": "x: FAILED"}]}
        ],
    }
    (workspace / ".course_progress" / f"{ENTRY.assignment}.json").write_text(json.dumps(report))
    html = render_home([chapter_progress(ENTRY, workspace, COURSE, exchange, None)], "9.8.7", "/user/ann/")
    assert "course version 9.8.7" in html
    assert "1 of 2 graded cells pass" in html and "1 still fail: fix them before you submit" in html
    assert "Exercise 1 — collect one batch: 1/2" in html
    assert 'href="/user/ann/lab/tree/ch03_batching/batching.ipynb"' in html
    assert "2026-12-06 10:00:00.000000 UTC" in html and "none yet" in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "Batching &lt;b&gt;" in html
