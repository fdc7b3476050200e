"""Collect the latest submission of each learner from the exchange, without trusting it.

Replaces ``nbgrader collect --update``, which follows symbolic links and copies whole
folders. Here, for each learner, the inbound folder with the latest timestamp in its
name (``<student>+<assignment>+<timestamp>+<random>``) is copied into
``submitted/<student>/<assignment>/``:

- only regular files named ``*.ipynb`` at the top of the folder, ``timestamp.txt``, and
  ``submission_secret.txt`` when it is what nbgrader's submit writes (hex digits only):
  releasing feedback names the learner's page after it, and their Fetch Feedback finds it so;
- never through a symbolic link (folders and files are opened with ``O_NOFOLLOW``);
- at most :data:`~autograder.submission.MAX_BYTES` per file;
- a folder owned by another account than the grader's must belong to the learner it
  names (nbgrader's ``check_owner``), so nobody can hand in for someone else. With
  ``$ASYNCIO_COURSE_OWNERS_ONLY=1`` (a class on one server, ``course.py hub``: every learner
  has an account) the grader's own folders are refused too: only the learner hands in.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import stat
from collections.abc import Collection, Iterator
from pathlib import Path

from autograder.exchange import inbound_dir
from autograder.learner_ids import id_problem
from autograder.submission import MAX_BYTES

OWNERS_ONLY_ENV = "ASYNCIO_COURSE_OWNERS_ONLY"
SECRET = "submission_secret.txt"
SECRET_MAX = 256
HEX = re.compile(rb"[0-9a-f]+")


def inbound_submissions(assignment: str, course_dir: Path) -> Iterator[tuple[str, str, os.DirEntry[str]]]:
    """``(learner id, timestamp, folder)`` of every submission of ``assignment`` in the exchange
    (real folders only; the id is not checked)."""
    inbound = inbound_dir(course_dir)
    if not inbound.is_dir() or inbound.is_symlink():
        return
    for entry in os.scandir(inbound):
        parts = entry.name.split("+")
        if len(parts) >= 4 and parts[-3] == assignment and entry.is_dir(follow_symlinks=False):
            yield "+".join(parts[:-3]), parts[-2], entry


def refused_learners(assignment: str, course_dir: Path) -> dict[str, str]:
    """Learner ids, in the exchange or in ``submitted/``, that cannot be graded, and why
    (:mod:`autograder.learner_ids`)."""
    ids = {student for student, _, _ in inbound_submissions(assignment, course_dir)}
    submitted = course_dir / "submitted"
    ids |= {entry.name for entry in os.scandir(submitted)} if submitted.is_dir() else set()
    return {student: why for student in sorted(ids) if (why := id_problem(student))}


def collect(assignment: str, course_dir: Path, only: Collection[str] | None = None) -> list[str]:
    """Copy each learner's latest submission into ``submitted/`` (only those of ``only`` when given);
    return the learners updated. Learners whose id cannot be graded are left out
    (:func:`refused_learners` names them)."""
    latest: dict[str, tuple[str, Path]] = {}
    for student, timestamp, entry in inbound_submissions(assignment, course_dir):
        if (only is not None and student not in only) or id_problem(student) or not owned_by(entry, student):
            continue
        if student not in latest or timestamp > latest[student][0]:
            latest[student] = (timestamp, Path(entry.path))
    updated = []
    for student, (timestamp, folder) in sorted(latest.items()):
        target = course_dir / "submitted" / student / assignment
        stamp = target / "timestamp.txt"
        if stamp.is_file() and not stamp.is_symlink() and stamp.read_text(errors="replace").strip() >= timestamp:
            continue
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for name, data in regular_files(folder):
            (target / name).write_bytes(data)
        secret = submission_secret(folder)
        if secret:
            (target / SECRET).write_text(secret)
        stamp.write_text(timestamp)
        updated.append(student)
    return updated


def submission_secret(folder: Path) -> str | None:
    """The submission's ``submission_secret.txt`` if it is a regular file of at most
    :data:`SECRET_MAX` hex digits (nbgrader writes 128), else None."""
    directory = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        data = read_regular(SECRET, directory, SECRET_MAX)
    finally:
        os.close(directory)
    return data.decode("ascii") if data and HEX.fullmatch(data) else None


def owned_by(entry: os.DirEntry[str], student: str) -> bool:
    """Is the folder owned by the account named ``student``, or the grader's own (unless
    ``$ASYNCIO_COURSE_OWNERS_ONLY`` is 1)?"""
    owner = entry.stat(follow_symlinks=False).st_uid
    if owner == os.geteuid() and os.environ.get(OWNERS_ONLY_ENV) != "1":
        return True
    try:
        return pwd.getpwuid(owner).pw_name == student
    except KeyError:
        return False


def regular_files(folder: Path) -> list[tuple[str, bytes]]:
    """The notebooks at the top of ``folder``: regular files, no links, each read once."""
    found = []
    directory = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        for name in sorted(os.listdir(directory)):
            data = read_regular(name, directory, MAX_BYTES) if name.endswith(".ipynb") else None
            if data is not None:
                found.append((name, data))
    finally:
        os.close(directory)
    return found


def read_regular(name: str, directory: int, limit: int) -> bytes | None:
    """The content of ``name`` in the open ``directory`` if it is a regular file (not through a
    symbolic link) of at most ``limit`` bytes, else None."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=directory)
    except OSError:
        return None  # a symbolic link, or gone
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # a folder, a pipe, a device
        os.close(fd)
        return None
    with os.fdopen(fd, "rb") as file:
        data = file.read(limit + 1)
    return data if len(data) <= limit else None
