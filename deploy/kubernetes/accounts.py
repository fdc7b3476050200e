"""Every person of the class gets their own uid on Zero to JupyterHub; the grader knows whose it is.

The chart runs every single-user pod as uid 1000. On a shared exchange volume that makes every
learner the owner of every submission, and nbgrader's permission model (an inbound folder
learners may write into but not list, each submission owned by whoever made it) protects
nothing. Here each person's pod runs under a uid of their own, derived from their hub name
(:func:`uid_of`), and the formgrader's pod resolves those uids to names (:func:`passwd_text`),
so the grader's collect (autograder/collect.py: a folder must be owned by the learner it names)
takes a learner's submission and refuses one made in their name by anyone else.

The roster is the class's TOML file (``[[instructor]]`` and ``[[learner]]`` tables, each with a
``username``), in the ConfigMap ``asyncio-course-roster`` beside this module; both are mounted
into the hub (values.yaml) and the formgrader (formgrader.yaml). Standard library only: the
hub's image runs it.

    python accounts.py passwd ROSTER.toml < /etc/passwd > passwd   # the formgrader's init step
"""

from __future__ import annotations

import hashlib
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

COURSE_ID = "asyncio-course"
FORMGRADERS = f"formgrade-{COURSE_ID}"  # nbgrader's name for the group that may open the course's formgrader
FIRST_UID = 100_000  # above every account of the image (the grader is 1000) and the usual system ranges
UID_SPAN = 2**30  # FIRST_UID + UID_SPAN stays below 2**31
GID = 100  # users: the group the image's accounts and the chart's fsGid share
HOME = "/home/jovyan"  # the chart's home mount path
USERNAME = re.compile(r"[a-z][a-z0-9_-]{0,23}")
ROLES = ("instructor", "learner")


class RosterError(ValueError):
    """A roster the class cannot run from; the message says why."""


def read_roster(text: str) -> dict[str, list[str]]:
    """``{"instructor": [...], "learner": [...]}``: the usernames of each role, in the file's order."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RosterError(f"the roster is not valid TOML: {error}") from None
    unknown = sorted(set(data) - set(ROLES))
    if unknown:
        raise RosterError(f"the roster has tables {unknown}; it holds [[instructor]] and [[learner]] only")
    roster: dict[str, list[str]] = {role: [] for role in ROLES}
    seen: set[str] = set()
    for role in ROLES:
        for entry in data.get(role, []):
            name = entry.get("username") if isinstance(entry, dict) else None
            if not isinstance(name, str) or not USERNAME.fullmatch(name):
                why = "a username is a lower-case letter, then letters, digits, _ or -"
                raise RosterError(f"[[{role}]] {entry!r}: {why}")
            if name in seen:
                raise RosterError(f"{name!r} is in the roster twice")
            seen.add(name)
            roster[role].append(name)
    return roster


def uid_of(username: str) -> int:
    """The uid ``username``'s pod runs as: the same on every start, from the name alone."""
    digest = hashlib.sha256(username.encode("utf-8")).digest()
    return FIRST_UID + int.from_bytes(digest[:8], "big") % UID_SPAN


def account_uids(roster: dict[str, list[str]]) -> dict[str, int]:
    """Every person's uid; :class:`RosterError` if two names would share one (then rename one)."""
    uids: dict[str, int] = {}
    owners: dict[int, str] = {}
    for name in [*roster["instructor"], *roster["learner"]]:
        uid = uid_of(name)
        if uid in owners:
            raise RosterError(f"{owners[uid]!r} and {name!r} would share uid {uid}")
        uids[name] = owners[uid] = uid
    return uids


def passwd_text(base: str, roster: dict[str, list[str]]) -> str:
    """``base`` (the image's /etc/passwd) with one line per person, so that uid -> name works in the
    formgrader's pod; a person named like an account of the image is refused."""
    existing = {line.split(":", 1)[0] for line in base.splitlines() if line.strip()}
    clash = sorted(existing & {*roster["instructor"], *roster["learner"]})
    if clash:
        raise RosterError(f"{clash} are accounts of the image already; choose other usernames")
    lines = [f"{name}:x:{uid}:{GID}::{HOME}:/usr/sbin/nologin" for name, uid in account_uids(roster).items()]
    return base.rstrip("\n") + "\n" + "".join(line + "\n" for line in lines)


def configure_hub(c: Any, roster_path: Path) -> dict[str, list[str]]:
    """The hub's side (values.yaml's hub.extraConfig calls it): who may sign up and log in (the
    roster), who teaches (the group formgrade-asyncio-course: values.yaml's roles let it open the
    formgrader and the admin page, not the hub's admin role), and each pod's uid and gid."""
    roster = read_roster(roster_path.read_text(encoding="utf-8"))
    uids = account_uids(roster)
    c.Authenticator.allowed_users = set(uids)
    c.JupyterHub.load_groups = {FORMGRADERS: {"users": roster["instructor"]}}
    c.KubeSpawner.uid = lambda spawner: uids[spawner.user.name]
    c.KubeSpawner.gid = GID
    return roster


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "passwd":
        print(__doc__, file=sys.stderr)
        return 2
    try:
        roster = read_roster(Path(argv[1]).read_text(encoding="utf-8"))
        sys.stdout.write(passwd_text(sys.stdin.read(), roster))
    except RosterError as error:
        print(f"accounts.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
