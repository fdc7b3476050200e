"""The exchange and `collect`: only nbgrader's own flow can write the exchange, and collecting
takes each learner's latest notebooks and nothing else: no symbolic link is followed, no other
file is copied, and a folder owned by another account cannot hand in for a learner."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from autograder.chapters import COURSE_DIR, Chapter
from autograder.collect import collect
from autograder.exchange import EXCHANGE_ENV, inbound_dir, outbound_dir, publish
from tests.hostile_submissions import CHAPTER, SOURCE

pytestmark = pytest.mark.slow  # left out by `course.py test --quick`


def submission(course: Path, name: str, files: dict[str, bytes]) -> Path:
    folder = inbound_dir(course) / name
    folder.mkdir(parents=True)
    for file, data in files.items():
        (folder / file).write_bytes(data)
    return folder


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(EXCHANGE_ENV, raising=False)
    (tmp_path / "autograder").mkdir()
    return tmp_path / "autograder"


def test_collect_takes_the_latest_notebooks_only_and_follows_no_link(course: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.ipynb"
    secret.write_bytes(b"the instructor's file")
    submission(course, f"ann+{CHAPTER}+2026-11-20 10:00:00.000000 UTC+a", {"old.ipynb": b"old"})
    latest = submission(course, f"ann+{CHAPTER}+2026-11-21 10:00:00.000000 UTC+b", {"nb.ipynb": b"new", "x.sh": b"no"})
    (latest / "linked.ipynb").symlink_to(secret)
    (latest / "folder.ipynb").mkdir()
    os.symlink(secret.parent, inbound_dir(course) / f"bob+{CHAPTER}+2026-11-22 10:00:00.000000 UTC+c")
    assert collect(CHAPTER, course) == ["ann"]
    copied = course / "submitted" / "ann" / CHAPTER
    assert sorted(path.name for path in copied.iterdir()) == ["nb.ipynb", "timestamp.txt"]
    assert (copied / "nb.ipynb").read_bytes() == b"new"
    assert collect(CHAPTER, course) == [], "an unchanged latest submission is not collected again"


def test_a_folder_owned_by_another_account_cannot_hand_in_for_a_learner(course: Path) -> None:
    forged = submission(course, f"ann+{CHAPTER}+2030-01-01 00:00:00.000000 UTC+f", {"nb.ipynb": b"forged"})
    os.chown(forged, 65534, 65534)  # nobody's, not ann's
    assert collect(CHAPTER, course) == []


def test_publishing_leaves_the_exchange_writable_only_where_nbgrader_means_it(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy2(COURSE_DIR / "nbgrader_config.py", course)
    shutil.copytree(SOURCE.parent, tmp_path / "notebooks" / CHAPTER)
    chapter = Chapter(CHAPTER, tmp_path / "notebooks" / CHAPTER)
    publish([chapter], course)
    mode = lambda path: stat.S_IMODE(path.stat().st_mode)  # noqa: E731
    root = course / "exchange"
    assert mode(root) == 0o755 and mode(root / "asyncio-course") == 0o755
    assert mode(inbound_dir(course)) == 0o2733  # learners add their own folders, see no one else's
    for path in [outbound_dir(chapter, course), *outbound_dir(chapter, course).rglob("*")]:
        assert not mode(path) & (stat.S_IWGRP | stat.S_IWOTH), path
    assert (outbound_dir(chapter, course) / SOURCE.name).exists()
