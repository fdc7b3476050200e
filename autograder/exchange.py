"""nbgrader's exchange on one machine: the instructor publishes, the learner fetches and submits.

The exchange is a folder, ``autograder/exchange/`` (``$ASYNCIO_COURSE_EXCHANGE``
overrides it, e.g. for a test), laid out by nbgrader::

    exchange/asyncio-course/outbound/<assignment>/   published chapters (nbgrader release_assignment)
    exchange/asyncio-course/inbound/<student>+<assignment>+<timestamp>+<random>/   submissions
    exchange/asyncio-course/feedback/                feedback the instructor released

Instructor side: :func:`publish` (``python -m autograder publish``, also run by
``course.py start``) releases stale chapters and copies them into ``outbound/``;
``nbgrader collect`` in ``autograder/`` copies submissions into ``submitted/``.
Both read ``autograder/nbgrader_config.py``, which names the same exchange.

Learner side: JupyterLab's Assignments tab (nbgrader's assignment_list server
extension) reads ``nbgrader_config.py`` in the server's root directory, the
workspace: :func:`write_learner_config` writes it there. Fetching puts a chapter
into ``workspace/<assignment>/``, the folder ``course.py start`` also fills, so a
chapter already in the workspace shows as downloaded, ready to validate and submit.
"""

from __future__ import annotations

import filecmp
import os
import re
import stat
import sys
from pathlib import Path
from typing import Any

from autograder.chapters import COURSE_DIR, Chapter
from autograder.nbgrader_run import nbgrader_api, require_success
from autograder.release import ensure_released, is_released, release_dir

COURSE_ID = "asyncio-course"
EXCHANGE_ENV = "ASYNCIO_COURSE_EXCHANGE"
STUDENT_ENV = "ASYNCIO_COURSE_STUDENT"
VALID_STUDENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
LEARNER_CONFIG = "nbgrader_config.py"
# nbgrader makes the exchange's root world-writable (0o777), so anyone could rename the
# course's folder away and put their own in its place. Learners only need to pass
# through it: to read outbound/ (0o755) and to add their own folder to inbound/ (0o2733,
# write-only), as nbgrader sets those. A root with the sticky bit is left as it is: the class's
# hub (course.py hub, hub/course_dir.py) makes it 1777, as learners of other accounts must find it
# writable (nbgrader checks), and the sticky bit keeps the course's folder out of their reach.
EXCHANGE_ROOT_MODE = 0o755


def exchange_root(course_dir: Path = COURSE_DIR) -> Path:
    """The exchange folder: ``$ASYNCIO_COURSE_EXCHANGE``, else ``<course_dir>/exchange``."""
    configured = os.environ.get(EXCHANGE_ENV)
    return Path(configured).resolve() if configured else course_dir / "exchange"


def outbound_dir(chapter: Chapter, course_dir: Path = COURSE_DIR) -> Path:
    """Where the published (fetchable) copy of ``chapter`` lives."""
    return exchange_root(course_dir) / COURSE_ID / "outbound" / chapter.assignment


def inbound_dir(course_dir: Path = COURSE_DIR) -> Path:
    """Where learners' submissions arrive, one folder per submission."""
    return exchange_root(course_dir) / COURSE_ID / "inbound"


def same_files(left: Path, right: Path) -> bool:
    """Do two folders hold the same files with the same contents?"""

    def files(root: Path) -> set[Path]:
        return {path.relative_to(root) for path in root.rglob("*") if path.is_file()} if root.is_dir() else set()

    names = files(left)
    return names == files(right) and all(filecmp.cmp(left / name, right / name, shallow=False) for name in names)


def is_published(chapter: Chapter, course_dir: Path = COURSE_DIR) -> bool:
    """Is the exchange's copy of ``chapter`` exactly its current release?"""
    return is_released(chapter, course_dir) and same_files(
        release_dir(chapter, course_dir), outbound_dir(chapter, course_dir)
    )


def publish(chapters: list[Chapter], course_dir: Path = COURSE_DIR) -> list[Path]:
    """Make the exchange offer the current release of each chapter; return their outbound folders.

    Stale releases are generated first; a chapter whose exchange copy already
    matches its release is left alone. The exchange's root is then writable by the
    instructor only (:data:`EXCHANGE_ROOT_MODE`), unless it is sticky (the hub's)."""
    ensure_released(chapters, course_dir)
    unpublished = [chapter.assignment for chapter in chapters if not is_published(chapter, course_dir)]
    if unpublished:
        print(f"Publishing {', '.join(unpublished)} to the exchange ...", file=sys.stderr)
        release_assignments(unpublished, course_dir)
    root = exchange_root(course_dir)
    if not root.stat().st_mode & stat.S_ISVTX:
        root.chmod(EXCHANGE_ROOT_MODE)
    return [outbound_dir(chapter, course_dir) for chapter in chapters]


def release_assignments(assignments: list[str], course_dir: Path = COURSE_DIR) -> None:
    """``nbgrader release_assignment --force`` for each assignment, all in this process.

    Through nbgrader's Python API (one nbgrader start-up rather than one per
    chapter), with the course's ``nbgrader_config.py`` and this exchange root."""
    overrides: dict[str, dict[str, Any]] = {
        "Exchange": {"root": str(exchange_root(course_dir))},
        "ExchangeReleaseAssignment": {"force": True},
    }
    with nbgrader_api(course_dir, overrides) as api:
        for assignment in assignments:
            require_success(api.release_assignment(assignment), f"nbgrader release_assignment {assignment}", course_dir)


def learner_config(workspace: Path, course_dir: Path = COURSE_DIR) -> str:
    """The text of the learner's ``nbgrader_config.py`` for ``workspace``; the learner's id in the
    exchange is ``$ASYNCIO_COURSE_STUDENT`` when set (several learners on one machine and account),
    else nbgrader's default, the login name."""
    student = os.environ.get(STUDENT_ENV)
    if student is not None and not VALID_STUDENT.fullmatch(student):
        raise ValueError(f"${STUDENT_ENV}={student!r}: a learner id is letters, digits, '_', '-' and '.', not first")
    named = f"c.CourseDirectory.student_id = {student!r}\n" if student else ""
    return f"""\
# Written by `python3 course.py start` (autograder/exchange.py), rewritten at each start.
# JupyterLab's Assignments tab reads it: where the course's exchange is, and
# that fetched chapters go into this workspace, one folder per chapter.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {COURSE_ID!r}
c.Exchange.root = {str(exchange_root(course_dir))!r}
c.Exchange.assignment_dir = {str(workspace)!r}
# The record of your submissions (the Assignments tab's "Submitted" list).
c.Exchange.cache = {str(workspace / ".nbgrader_cache")!r}
# Validate (Assignments tab) may run each cell as long as the autograder does.
c.ExecutePreprocessor.timeout = 120
{named}"""


def write_learner_config(workspace: Path, course_dir: Path = COURSE_DIR) -> Path:
    """Write ``workspace/nbgrader_config.py`` (only when its text changes); return its path."""
    path = workspace / LEARNER_CONFIG
    text = learner_config(workspace.resolve(), course_dir)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        workspace.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path
