"""Where a learner stands in each chapter, read from their workspace and the exchange.

- **Checked**: the last ``check_my_work`` result, ``<workspace>/.course_progress/<chapter>.json``
  (:mod:`coursekit.check_my_work`).
- **Submitted**: nbgrader's record of the learner's submissions, the Assignments tab's cache
  (``<workspace>/.nbgrader_cache/<course>/<student>+<chapter>+<time>/``); the latest counts.
- **Feedback**: fetched into ``<workspace>/<chapter>/feedback/<time>/`` (a page to open), or
  released in the exchange for the latest submission and not fetched yet (found as nbgrader's
  Fetch Feedback finds it: a page named after the submission's secret).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course_home.outline import NotebookOutline, outline
from coursekit.check_my_work import PROGRESS_DIR
from coursekit.table_of_contents import ChapterEntry

CACHE_DIR = ".nbgrader_cache"


@dataclass(frozen=True)
class ChapterProgress:
    """One chapter of the home page: paths are relative to the workspace."""

    entry: ChapterEntry
    notebook: str | None  # the learner's notebook, None until fetched
    outline: NotebookOutline | None
    checked: dict[str, Any] | None  # the last check_my_work report
    submitted_at: str | None  # nbgrader's timestamp of the latest submission
    feedback: str | None  # the newest fetched feedback page
    feedback_waiting: bool  # released for the latest submission, not fetched yet


def chapter_progress(
    entry: ChapterEntry, workspace: Path, course_id: str, exchange: Path | None, release: Path | None
) -> ChapterProgress:
    """``entry``'s progress in ``workspace`` (``release``: the chapter's released notebook, for its
    outline before the learner fetches it)."""
    folder = workspace / entry.assignment
    notebooks = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
    source = notebooks[0] if notebooks else release
    submission = latest_submission(workspace / CACHE_DIR / course_id, entry.assignment)
    pages = sorted((folder / "feedback").glob("*/*.html")) if folder.is_dir() else []
    return ChapterProgress(
        entry=entry,
        notebook=str(notebooks[0].relative_to(workspace)) if notebooks else None,
        outline=outline(source) if source and source.is_file() else None,
        checked=read_json(workspace / PROGRESS_DIR / f"{entry.assignment}.json"),
        submitted_at=submission.name.split("+")[-1] if submission else None,
        feedback=str(pages[-1].relative_to(workspace)) if pages else None,
        feedback_waiting=bool(
            submission and exchange and not fetched(pages, submission) and released(submission, exchange, course_id)
        ),
    )


def latest_submission(cache: Path, assignment: str) -> Path | None:
    """The cached copy of the latest submission of ``assignment`` (nbgrader names it ``student+assignment+time``)."""
    found = sorted(cache.glob(f"*+{assignment}+*"), key=lambda path: path.name.split("+")[-1]) if cache.is_dir() else []
    return found[-1] if found else None


def fetched(pages: list[Path], submission: Path) -> bool:
    """Has the feedback of ``submission`` been fetched (its folder is named after the submission's time)?"""
    return any(page.parent.name == submission.name.split("+")[-1] for page in pages)


def released(submission: Path, exchange: Path, course_id: str) -> bool:
    """Is feedback for ``submission`` in the exchange (named as nbgrader's release_feedback names it)?"""
    from nbgrader.utils import notebook_hash

    secret_file = submission / "submission_secret.txt"
    if not secret_file.is_file():
        return False
    secret = secret_file.read_text()
    feedback = exchange / course_id / "feedback"
    return any(
        (feedback / f"{notebook_hash(secret=secret, notebook_id=notebook.stem)}.html").is_file()
        for notebook in submission.glob("*.ipynb")
    )


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None
