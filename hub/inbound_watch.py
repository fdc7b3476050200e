"""Which submissions in the exchange's inbound folder are new and complete: continuous grading's eyes.

:meth:`InboundWatch.arrivals` lists the inbound folder (``os.scandir``, once a second by the
caller: polling, not inotify) and returns, per chapter, the learners with a submission that is

- **complete**: nbgrader's submit writes ``submission_secret.txt`` after the notebook and
  ``timestamp.txt``, so a folder with a valid secret (:func:`autograder.collect.submission_secret`)
  holds the whole submission; while another submission of the same learner and chapter is still
  being written, the learner waits (collect takes the newest, which must be whole);
- **the learner's own**: owned by the account it names (:func:`autograder.collect.owned_by`), as
  collect requires; a folder forged in another's name never triggers their grading;
- **not graded yet**: its timestamp is later than the one recorded with that learner's graded
  notebook (``sandboxed/<learner>/<chapter>/timestamp.txt``, written by grading), so a restart
  grades what came in while it was stopped, and nothing twice.

A folder is looked at until it is complete, then never again (:meth:`InboundWatch.settle`), so a
poll costs one directory listing however many submissions the exchange holds.

Why polling: the exchange is a plain shared folder, on one machine here and on a ReadWriteMany
(NFS) volume on Kubernetes, where inotify does not see files other machines write; the standard
library has no inotify, and a listing of a few hundred names a second costs well under a
millisecond, against several seconds to grade one notebook.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.collect import owned_by, submission_secret
from autograder.exchange import inbound_dir
from autograder.record import SANDBOXED

ABANDONED_SECONDS = 60


@dataclass
class InboundWatch:
    course_dir: Path
    settled: set[str] = field(default_factory=set)  # folder names never to look at again

    def arrivals(self) -> dict[str, dict[str, str]]:
        """{chapter: {learner: the folder name of their newest submission}} for each learner with a
        complete, ungraded one; a learner with a submission still being written waits for it (grading
        takes the newest, which must be whole)."""
        found: defaultdict[str, dict[str, str]] = defaultdict(dict)
        writing: set[tuple[str, str]] = set()
        for chapter, learner, timestamp, entry in self.submissions():
            if entry.name in self.settled:
                continue
            if not owned_by(entry, learner):  # forged in another's name: collect refuses it too
                self.settled.add(entry.name)
            elif not complete(entry):
                if not abandoned(entry):
                    writing.add((chapter, learner))
            elif timestamp <= graded_stamp(self.course_dir, chapter, learner):
                self.settled.add(entry.name)
            elif entry.name > found[chapter].get(learner, ""):  # the name goes on learner+chapter+timestamp
                found[chapter][learner] = entry.name
        arrived = {
            chapter: {learner: name for learner, name in learners.items() if (chapter, learner) not in writing}
            for chapter, learners in found.items()
        }
        return {chapter: learners for chapter, learners in arrived.items() if learners}

    def submissions(self) -> list[tuple[str, str, str, os.DirEntry[str]]]:
        """(chapter, learner, timestamp, folder) of every submission folder in the inbound folder."""
        inbound = inbound_dir(self.course_dir)
        if not inbound.is_dir() or inbound.is_symlink():
            return []
        found = []
        for entry in os.scandir(inbound):
            parts = entry.name.split("+")
            if len(parts) >= 4 and entry.is_dir(follow_symlinks=False):
                found.append((parts[-3], "+".join(parts[:-3]), parts[-2], entry))
        return found

    def settle(self, folder_names: Iterable[str]) -> None:
        """Never look at these folders again (graded, or refused with the reason logged)."""
        self.settled.update(folder_names)


def complete(entry: os.DirEntry[str]) -> bool:
    """Has nbgrader's submit finished writing this folder (its last file, the secret, is there)?"""
    try:
        return submission_secret(Path(entry.path)) is not None
    except OSError:  # not readable yet (PrivateSubmit is setting its group), or gone
        return False


def abandoned(entry: os.DirEntry[str]) -> bool:
    """Has this incomplete folder been left so for over :data:`ABANDONED_SECONDS` (not a submit still
    writing it, which takes milliseconds)? Its learner's grading no longer waits for it."""
    try:
        return time.time() - entry.stat(follow_symlinks=False).st_mtime > ABANDONED_SECONDS
    except OSError:
        return True


def graded_stamp(course_dir: Path, chapter: str, learner: str) -> str:
    """The timestamp of the learner's submission graded last for this chapter ('' if none)."""
    stamp = course_dir / SANDBOXED / learner / chapter / "timestamp.txt"
    try:
        return stamp.read_text(errors="replace").strip() if not stamp.is_symlink() else ""
    except OSError:
        return ""
