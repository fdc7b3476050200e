"""What grading may leave behind, and a check that it left nothing.

After a test, no sandbox, runner or kernel it started may still run, and no folder or
file it made may remain in /tmp or /dev/shm (this account's: a class hub grades as its own): per-submission folders
(:data:`autograder.sandbox.SCRATCH_PREFIXES`), Dask's scratch space, and anything named after
a hostile case's marker. ``conftest.py`` checks this around every test.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from autograder.sandbox import SCRATCH_PREFIXES, owned_by_this_account
from tests.hostile_submissions import MARKER

FOLDERS = (Path("/tmp"), Path("/dev/shm"))
PREFIXES = (*SCRATCH_PREFIXES, "dask-scratch-space", MARKER)
COMMANDS = ("autograder.inside.kernel", "autograder.runner", "bwrap", MARKER, "sleep 4242")
SETTLE_SECONDS = 10  # killed processes take a moment to be reaped, and their folders to be removed


def present() -> set[str]:
    """Grading's folders that this account owns, and the ids of every process, on this machine now
    (cheap: no command line is read). Another account's (a class hub's grader) are not this run's."""
    found = {
        str(path)
        for folder in FOLDERS
        for path in folder.iterdir()
        if path.name.startswith(PREFIXES) and owned_by_this_account(path)
    }
    return found | {f"pid {pid}" for pid in os.listdir("/proc") if pid.isdigit()}


def own_processes() -> set[str]:
    """This process's descendants (``pid N``), from each process's parent in ``/proc/N/stat``."""
    parents: dict[str, str] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        parents[pid] = stat.rsplit(")", 1)[1].split()[1]  # the fields after the command's name: state, ppid
    own, found = {str(os.getpid())}, True
    while found:
        found = False
        for pid, parent in parents.items():
            if parent in own and pid not in own:
                own.add(pid)
                found = True
    return {f"pid {pid}" for pid in own - {str(os.getpid())}}


def grading_processes(pids: set[str]) -> set[str]:
    """Those of ``pids`` (``pid N``) that are grading's, as ``N: command``."""
    found = set()
    for pid in pids:
        number = pid.removeprefix("pid ")
        try:
            command = Path(f"/proc/{number}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if (
            any(part in command for part in COMMANDS)
            and int(number) != os.getpid()
            and owned_by_this_account(Path(f"/proc/{number}"))
        ):
            found.add(f"{number}: {command[:200]}")
    return found


def left_since(before: set[str]) -> list[str]:
    """Grading's folders and processes that appeared since ``before`` and are still there once
    things have had time to end."""
    ends = time.monotonic() + SETTLE_SECONDS
    while True:
        new = present() - before
        left = {entry for entry in new if not entry.startswith("pid ")} | grading_processes(
            {entry for entry in new if entry.startswith("pid ")}
        )
        if not left or time.monotonic() > ends:
            return sorted(left)
        time.sleep(0.2)
