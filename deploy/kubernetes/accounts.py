"""Every person of the class gets their own uid on Zero to JupyterHub; the grader knows whose it is.

The chart runs every single-user pod as uid 1000. On a shared exchange volume that makes every
learner the owner of every submission, and nbgrader's permission model (an inbound folder
learners may write into but not list, each submission owned by whoever made it) protects
nothing. Here each person's pod runs under a uid of their own, derived from their hub name
(:func:`uid_of`), and the formgrader's pod resolves those uids to names (:func:`passwd_text`),
so the grader's collect (autograder/collect.py: a folder must be owned by the learner it names)
takes a learner's submission and refuses one made in their name by anyone else.

The roster is the class's TOML file in the format of ``python3 course.py hub``
(``hub/roster.example.toml``), read by the same reader, ``hub/roster.py``, with the same messages.
The ConfigMap ``asyncio-course-roster`` holds the roster, this module and ``roster.py``, mounted
side by side into the hub (values.yaml) and the formgrader (formgrader.yaml); where the package
``hub`` is not installed (the chart's hub image), ``roster`` is imported from beside this file.
Standard library only: the hub's image runs it.

    python accounts.py passwd ROSTER.toml < /etc/passwd > passwd   # the formgrader's init step
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

try:
    from hub.roster import Roster, RosterError, read_roster
except ModuleNotFoundError as missing:  # the hub's pod: roster.py is mounted beside this file
    if missing.name not in ("hub", "hub.roster"):
        raise
    from roster import Roster, RosterError, read_roster

COURSE_ID = "asyncio-course"
FORMGRADERS = f"formgrade-{COURSE_ID}"  # nbgrader's name for the group that may open the course's formgrader
FIRST_UID = 100_000  # above every account of the image (the grader is 1000) and the usual system ranges
UID_SPAN = 2**30  # FIRST_UID + UID_SPAN stays below 2**31
GID = 100  # users: the group the image's accounts and the chart's fsGid share
HOME = "/home/jovyan"  # the chart's home mount path


def uid_of(username: str) -> int:
    """The uid ``username``'s pod runs as: the same on every start, from the name alone."""
    digest = hashlib.sha256(username.encode("utf-8")).digest()
    return FIRST_UID + int.from_bytes(digest[:8], "big") % UID_SPAN


def account_uids(roster: Roster) -> dict[str, int]:
    """Every person's uid; :class:`RosterError` if two names would share one (then rename one)."""
    uids: dict[str, int] = {}
    owners: dict[int, str] = {}
    for name in [*roster.instructors, *roster.learners]:
        uid = uid_of(name)
        if uid in owners:
            raise RosterError(f"{owners[uid]!r} and {name!r} would share uid {uid}")
        uids[name], owners[uid] = uid, name
    return uids


def passwd_text(base: str, roster: Roster) -> str:
    """``base`` (the image's /etc/passwd) with one line per person, so that uid -> name works in the
    formgrader's pod; a person named like an account of the image is refused."""
    existing = {line.split(":", 1)[0] for line in base.splitlines() if line.strip()}
    clash = sorted(existing & {*roster.instructors, *roster.learners})
    if clash:
        raise RosterError(f"{clash} are accounts of the image already; choose other usernames")
    lines = [f"{name}:x:{uid}:{GID}::{HOME}:/usr/sbin/nologin" for name, uid in account_uids(roster).items()]
    return base.rstrip("\n") + "\n" + "".join(line + "\n" for line in lines)


def configure_hub(c: Any, roster_path: Path) -> Roster:
    """The hub's side (values.yaml's hub.extraConfig calls it): who may sign up and log in (the
    roster), who teaches (the group formgrade-asyncio-course: values.yaml's roles let it open the
    formgrader and the admin page, not the hub's admin role), and each pod's uid and gid."""
    roster = read_roster(roster_path)
    uids = account_uids(roster)
    c.Authenticator.allowed_users = set(uids)
    c.JupyterHub.load_groups = {FORMGRADERS: {"users": roster.instructors}}
    c.KubeSpawner.uid = lambda spawner: uids[spawner.user.name]
    c.KubeSpawner.gid = GID
    return roster


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "passwd":
        print(__doc__, file=sys.stderr)
        return 2
    try:
        roster = read_roster(Path(argv[1]))
        sys.stdout.write(passwd_text(sys.stdin.read(), roster))
    except RosterError as error:
        print(f"accounts.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
