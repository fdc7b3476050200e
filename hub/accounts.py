"""System accounts for a class, as The Littlest JupyterHub and nbgrader's demos make them.

Everyone on the roster gets a system user named ``<prefix><username>`` with a home folder of
mode 0700 (learners cannot read each other's files). Two groups: ``<prefix>instructors`` (the
shared course directory is theirs) and ``<prefix>learners`` (they alone may hand in to the
exchange). One more account, ``<prefix>grader``, owns the course directory and the exchange
and runs the shared grading server (nbgrader's "one class, multiple graders"); it is a member of
each learner's own group, which is the group of that learner's submissions (hub/private_submit.py).

Idempotent: an account or membership that exists is left as it is, so a second start changes
nothing and a learner added to the roster is added at the next start. Nobody is removed when
they leave the roster (their work stays); :func:`delete_accounts` is for throwaway classes.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hub.roster import Roster

PREFIX = re.compile(r"([a-z][a-z0-9_-]{0,7})?")
HOME_MODE = 0o700


@dataclass(frozen=True)
class Accounts:
    """The system names of a class: every name carries the prefix."""

    prefix: str
    instructors: tuple[str, ...]
    learners: tuple[str, ...]

    @property
    def grader(self) -> str:
        return f"{self.prefix}grader"

    @property
    def instructors_group(self) -> str:
        return f"{self.prefix}instructors"

    @property
    def learners_group(self) -> str:
        return f"{self.prefix}learners"

    @property
    def people(self) -> tuple[str, ...]:
        return self.instructors + self.learners


def class_accounts(roster: Roster, prefix: str = "") -> Accounts:
    """The accounts of ``roster`` with ``prefix`` (ValueError for a prefix useradd would refuse)."""
    if not PREFIX.fullmatch(prefix):
        raise ValueError(f"prefix {prefix!r}: at most 8 lower-case letters, digits, '_' or '-', a letter first")
    return Accounts(
        prefix,
        tuple(prefix + name for name in roster.instructors),
        tuple(prefix + name for name in roster.learners),
    )


def exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True


def group_exists(group: str) -> bool:
    try:
        grp.getgrnam(group)
    except KeyError:
        return False
    return True


def run(*command: str) -> None:
    subprocess.run(command, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


def ensure_group(group: str) -> bool:
    """Make ``group`` unless it exists; was it made?"""
    if group_exists(group):
        return False
    run("groupadd", group)
    return True


def ensure_user(user: str, groups: tuple[str, ...] = ()) -> bool:
    """Make the system user ``user`` (own group, home 0700, in ``groups``) unless it exists; its home
    is made 0700 and it is added to the groups it is not in either way. Was it made?"""
    made = not exists(user)
    if made:  # its own group, which may be left from an account of that name removed before
        own_group = ["--gid", user] if group_exists(user) else ["--user-group"]
        run("useradd", "--create-home", *own_group, "--shell", "/bin/bash", user)
    home = Path(pwd.getpwnam(user).pw_dir)
    if home.is_dir() and home.stat().st_mode & 0o777 != HOME_MODE:
        home.chmod(HOME_MODE)
    for group in groups:
        if user not in grp.getgrnam(group).gr_mem:
            run("usermod", "--append", "--groups", group, user)
    return made


def ensure_accounts(accounts: Accounts) -> list[str]:
    """Make whatever of the class's groups and users is missing; return the users made."""
    for group in (accounts.instructors_group, accounts.learners_group):
        ensure_group(group)
    made = [accounts.grader] if ensure_user(accounts.grader, (accounts.instructors_group,)) else []
    made += [user for user in accounts.instructors if ensure_user(user, (accounts.instructors_group,))]
    made += [user for user in accounts.learners if ensure_user(user, (accounts.learners_group,))]
    for learner in accounts.learners:  # each learner's own group: that learner and the grader
        own_group = grp.getgrgid(pwd.getpwnam(learner).pw_gid)
        if accounts.grader not in own_group.gr_mem:
            run("usermod", "--append", "--groups", own_group.gr_name, accounts.grader)
    return made


def delete_accounts(accounts: Accounts) -> list[str]:
    """Remove the class's users (homes included) and groups, those that exist (for throwaway classes);
    return what could not be removed, with userdel's or groupdel's reason (a process still running)."""
    problems = []
    for command, name, there in [
        # the grader first: it is a member of each learner's own group, which userdel would leave
        *[("userdel", user, exists) for user in (accounts.grader, *accounts.people)],
        *[("groupdel", group, group_exists) for group in (accounts.instructors_group, accounts.learners_group)],
        *[("groupdel", group, group_exists) for group in (accounts.grader, *accounts.people)],
    ]:
        if there(name):
            args = [command, "--remove", name] if command == "userdel" else [command, name]
            result = subprocess.run(args, check=False, capture_output=True, text=True)
            if result.returncode not in (0, 12):  # 12: the home folder was not there to remove
                problems.append(f"{name}: {result.stderr.strip()}")
    return problems


def ids(user: str) -> tuple[int, int]:
    """``(uid, gid)`` of ``user``."""
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def gid(group: str) -> int:
    return grp.getgrnam(group).gr_gid


def running_as_root() -> bool:
    return os.geteuid() == 0
