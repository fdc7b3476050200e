"""The class's accounts must reach the course: folders on the way opened to them, traverse only.

Every server of the class runs as its person's account, so each of these must be reachable by
the class's groups: the repository (``PYTHONPATH``, the learner's screen, the course home page),
the course environment (``.venv``), the interpreter that environment was made from
(``sys.base_prefix``: a venv is only a pointer to it, and its ``libpython`` and standard library
live there) and the state folder. A folder on the way that other accounts cannot enter (``/root``
is 0700 on many machines, with a clone or pyenv's interpreters inside it) is opened to the class's
two groups, **traverse only** (POSIX ACL ``g:<group>:x``: they can pass through it to a path they
know, never list it or read what it holds unless that is open to all anyway), and only while the
hub runs: :func:`grant` records what it added in the state folder before adding it, and
:func:`revoke` takes exactly that away when the hub stops (or at the next start, after a crash).

A folder the servers must read (one of the paths above, not a folder on the way) that other
accounts cannot read is refused with the command that fixes it, as is a machine without
``setfacl`` (Debian's ``acl``, which ``course.py hub`` installs). At the end the course
environment's python is run as the class's accounts and must find the same interpreter as the
hub's (:func:`interpreter_problem`): without this, Debian's python found by chance in
``/usr/lib`` stood in for it, and nbgrader's feedback failed in the grader's account.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

OTHERS_ENTER = 0o001
OTHERS_READ_ENTER = 0o005


class Unreachable(ValueError):
    """A path the class's servers need cannot be made reachable; the message says what to do."""


@dataclass(frozen=True)
class Grant:
    """Traverse-only access added to ``path`` for the groups ``gids``; ``had_acl``: the folder had
    an extended ACL before (so revoking removes only these entries, not the whole ACL)."""

    path: str
    gids: list[int]
    had_acl: bool


def needed_paths(repo: Path, state: Path) -> list[Path]:
    """The folders every server of the class reads: the repository, the course environment, the
    interpreter it was made from (and the folder of its ``libpython``), the state folder."""
    paths = [repo, Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent, state]
    libdir = sysconfig.get_config_var("LIBDIR") if sysconfig.get_config_var("Py_ENABLE_SHARED") else None
    if libdir and Path(libdir).is_dir():
        paths.append(Path(libdir))
    return list(dict.fromkeys(path.resolve() for path in paths))


def closed_on_the_way(paths: Iterable[Path]) -> list[Path]:
    """The folders on the way to ``paths`` (the paths themselves excluded) that other accounts
    cannot enter, each once, outermost first."""
    closed: dict[Path, None] = {}
    for path in paths:
        for folder in reversed(path.resolve().parents):
            if not folder.stat().st_mode & OTHERS_ENTER:
                closed[folder] = None
    return list(closed)


def unreadable(paths: Iterable[Path]) -> list[Path]:
    """The ``paths`` themselves that other accounts cannot list and enter."""
    return [path for path in paths if path.stat().st_mode & OTHERS_READ_ENTER != OTHERS_READ_ENTER]


def setfacl(*arguments: str) -> None:
    result = subprocess.run(["setfacl", *arguments], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise Unreachable(f"setfacl {' '.join(arguments)} failed: {result.stderr.strip()}")


def extended_acl(path: Path) -> str:
    """The access ACL's entries beyond owner, group and others, one a line ('' when it has none)."""
    result = subprocess.run(
        ["getfacl", "--absolute-names", "--omit-header", "--access", "--numeric", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    entries = [line.split("#")[0].strip() for line in result.stdout.splitlines()]
    return "\n".join(entry for entry in entries if entry and (entry.split(":")[1] or entry.startswith("mask:")))


def read_record(record: Path) -> list[Grant]:
    if not record.is_file():
        return []
    return [Grant(**entry) for entry in json.loads(record.read_text(encoding="utf-8"))]


def write_record(record: Path, grants: list[Grant]) -> None:
    record.write_text(json.dumps([asdict(grant) for grant in grants], indent=1), encoding="utf-8")
    record.chmod(0o600)


def grant(folders: list[Path], gids: list[int], record: Path) -> list[Grant]:
    """Let the groups ``gids`` traverse ``folders``; what is added is written to ``record`` first."""
    if folders and not shutil.which("setfacl"):
        raise Unreachable(
            f"{', '.join(map(str, folders))}: closed to other accounts, and setfacl (Debian's acl) is "
            "missing to open them to the class: `apt-get install acl`, or `chmod o+x` them"
        )
    grants = [Grant(str(folder), gids, bool(extended_acl(folder))) for folder in folders]
    write_record(record, read_record(record) + grants)
    for folder in folders:
        try:
            setfacl("-m", ",".join(f"g:{gid}:x" for gid in gids), str(folder))
        except Unreachable as error:
            raise Unreachable(
                f"{error}. {folder} is closed to other accounts (mode {folder.stat().st_mode & 0o777:o}) and its file "
                f"system takes no ACL: `chmod o+x {folder}`, or put the repository and --state where all may enter"
            ) from None
    return grants


def named_entries(path: Path) -> bool:
    """Does the access ACL of ``path`` name a user or group (beyond its mask)?"""
    return any(not line.startswith("mask:") for line in extended_acl(path).splitlines())


def revoke(record: Path) -> list[str]:
    """Take away what ``record`` lists (a folder's ACL is left as it was before); the problems."""
    problems = []
    for entry in read_record(record):
        path = Path(entry.path)
        if not path.exists():
            continue
        try:
            setfacl("-x", ",".join(f"g:{gid}" for gid in entry.gids), entry.path)
            if not entry.had_acl and not named_entries(path):
                setfacl("-b", entry.path)  # no mask left behind: the folder as it was
        except (Unreachable, subprocess.CalledProcessError) as error:
            problems.append(f"{entry.path}: {error}")
    if not problems:
        record.unlink(missing_ok=True)
    return problems


def interpreter_problem(python: str, user: str, uid: int, gids: list[int]) -> str | None:
    """Does ``python``, run as ``user``, find the interpreter it finds for root? If not, why."""
    probe = "import sys; print(sys.base_prefix); print(sys.version)"
    result = subprocess.run(
        [python, "-I", "-c", probe],
        user=uid,
        group=gids[0],
        extra_groups=gids[1:],
        env={"PATH": "/usr/bin:/bin"},
        cwd="/",
        capture_output=True,
        text=True,
        check=False,
    )
    expected = f"{sys.base_prefix}\n{sys.version}"
    if result.returncode == 0 and result.stdout.strip() == expected:
        return None
    seen = result.stdout.strip().replace("\n", ", ") or result.stderr.strip()[-300:]
    return (
        f"the course environment's python, run as {user}, finds {seen!r}, not {sys.base_prefix} "
        f"(python {sys.version.split()[0]}): some file under {sys.base_prefix} is not readable by all "
        f"(`chmod -R o+rX {sys.base_prefix}`), or recreate .venv from a python installed where all may read it"
    )


@contextmanager
def reachable(paths: list[Path], gids: list[int], record: Path) -> Iterator[list[Path]]:
    """``paths`` reachable by the groups ``gids`` while the block runs (the folders opened are
    yielded); revoked when it ends, however it ends. What an earlier run left is revoked first."""
    revoke(record)
    closed = unreadable(paths)
    if closed:
        listed = " ".join(map(str, closed))
        raise Unreachable(f"{listed}: the class's servers read this, and other accounts cannot: `chmod o+rx {listed}`")
    try:
        opened = grant(closed_on_the_way(paths), gids, record)
        yield [Path(entry.path) for entry in opened]
    finally:
        problems = revoke(record)
        if problems:
            print("could not take back the access given to the class:\n  " + "\n  ".join(problems), file=sys.stderr)


def account_groups(user: str) -> list[int]:
    """``user``'s groups, its own first, as a login would have them."""
    own = pwd.getpwnam(user).pw_gid
    return [own, *(gid for gid in os.getgrouplist(user, own) if gid != own)]
