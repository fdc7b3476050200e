"""tests/per_chapter.py keeps each chapter's outcome apart, even when a worker process dies."""

from __future__ import annotations

import os
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from autograder.chapters import Chapter
from tests.per_chapter import outcome_of, per_chapter

CHAPTERS = [Chapter(name, Path(name)) for name in ("first", "dies", "raises", "last")]


def job(chapter: Chapter, folder: Path) -> str:
    """Run in a spawned worker process: one chapter kills its process, one raises."""
    if chapter.assignment == "dies":
        os._exit(3)
    if chapter.assignment == "raises":
        raise ValueError("this chapter's own error")
    return f"{chapter.assignment} done in {folder.name}"


def test_a_dying_worker_costs_only_its_own_chapter(tmp_path: Path) -> None:
    outcomes = per_chapter(job, CHAPTERS, tmp_path, processes=True)
    assert outcome_of(outcomes, CHAPTERS[0]) == "first done in first"
    assert outcome_of(outcomes, CHAPTERS[3]) == "last done in last"
    with pytest.raises(ValueError, match="this chapter's own error"):
        outcome_of(outcomes, CHAPTERS[2])
    with pytest.raises(BrokenProcessPool):
        outcome_of(outcomes, CHAPTERS[1])
