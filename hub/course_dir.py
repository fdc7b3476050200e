"""The hub's state folder: the hub's own files, the shared course directory, and the exchange.

    <state>/                      0755 root
    <state>/hub/                  0700 root: JupyterHub's database, cookie secret, settings, proxy pid,
                                  access.json (folders opened to the class while the hub runs)
    <state>/course/               grader:instructors 2770: nbgrader's course directory, one for all
                                  instructors (nbgrader's "one class, multiple graders"): releases,
                                  gradebook.db, submitted/, autograded/, feedback/, grades.csv
    <state>/exchange/             grader 1777: nbgrader's exchange, shared folder (nbgrader wants its
                                  root writable by all; sticky: nobody but the grader can move
                                  or remove what is in it)
      asyncio-course/             grader:instructors 2755
        outbound/                 grader:instructors 2755: published chapters, readable by all
        inbound/                  grader:learners 2730: learners add their submission folders; nobody
                                  but the grader lists it; instructors cannot hand in at all
        feedback/                 grader:instructors 2711: released feedback, read by its hash only
    <state>/scratch/              grader 0700: the grader's temporary folder ($TMPDIR) for the grading
                                  server's grade-all and continuous grading (hub/continuous_grading.py):
                                  sandboxes' and Dask's scratch

nbgrader's own modes for ``inbound/`` are 2733 (anyone may write); here only the learners' group
may, so no instructor (nor anyone off the roster) can put a submission there, and grading accepts
only folders owned by the learner they name (``$ASYNCIO_COURSE_OWNERS_ONLY``, autograder/collect.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from autograder.chapters import REPO_ROOT
from autograder.exchange import COURSE_ID
from hub.accounts import Accounts, gid, ids

INSTRUCTOR_CONFIG = REPO_ROOT / "instructor" / "nbgrader_config.py"


@dataclass(frozen=True)
class StateFolder:
    root: Path

    @property
    def hub(self) -> Path:
        return self.root / "hub"

    @property
    def course(self) -> Path:
        return self.root / "course"

    @property
    def exchange(self) -> Path:
        return self.root / "exchange"

    @property
    def exchange_course(self) -> Path:
        return self.exchange / COURSE_ID

    @property
    def scratch(self) -> Path:
        """The grader's temporary folder for grading, not ``/tmp``: the grading server's and continuous
        grading's ``$TMPDIR``."""
        return self.root / "scratch"

    @property
    def settings(self) -> Path:
        return self.hub / "settings.json"

    @property
    def access_record(self) -> Path:
        """What the hub opened to the class's groups on the way to the course (hub/access.py)."""
        return self.hub / "access.json"


def course_config(state: StateFolder) -> str:
    """The shared course directory's nbgrader_config.py: the repository's instructor configuration,
    with this course directory, the repository's notebooks, and the hub's exchange."""
    return f"""\
# Written by `python3 course.py hub` (hub/course_dir.py) at every start: the instructor's
# configuration of the repository, for the class's shared course directory.
c = get_config()  # noqa: F821
load_subconfig({str(INSTRUCTOR_CONFIG)!r})  # noqa: F821
c.CourseDirectory.root = {str(state.course)!r}
c.CourseDirectory.source_directory = {str(REPO_ROOT / "notebooks")!r}
c.CourseDirectory.db_url = {"sqlite:///" + str(state.course / "gradebook.db")!r}
# Files the graders make are group-writable, so every instructor's grading can update them.
c.CourseDirectory.groupshared = True
c.Exchange.root = {str(state.exchange)!r}
"""


def place(path: Path, mode: int, uid: int, group: int) -> None:
    """Make the folder ``path`` (if missing) with exactly this owner, group and mode."""
    path.mkdir(exist_ok=True)
    os.chown(path, uid, group)
    path.chmod(mode)


def ensure_state(state: StateFolder, accounts: Accounts) -> None:
    """Make the state folder's layout (the module's docstring), or put its owners and modes back."""
    grader, _ = ids(accounts.grader)
    instructors, learners = gid(accounts.instructors_group), gid(accounts.learners_group)
    state.root.mkdir(parents=True, exist_ok=True)
    state.root.chmod(0o755)
    place(state.hub, 0o700, 0, 0)
    place(state.course, 0o2770, grader, instructors)
    config = state.course / "nbgrader_config.py"
    config.write_text(course_config(state), encoding="utf-8")
    os.chown(config, grader, instructors)
    config.chmod(0o640)
    place(state.exchange, 0o1777, grader, instructors)
    place(state.exchange_course, 0o2755, grader, instructors)
    place(state.exchange_course / "outbound", 0o2755, grader, instructors)
    place(state.exchange_course / "inbound", 0o2730, grader, learners)
    place(state.exchange_course / "feedback", 0o2711, grader, instructors)
    place(state.scratch, 0o700, grader, ids(accounts.grader)[1])
