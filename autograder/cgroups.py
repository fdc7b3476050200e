"""Per-submission caps on processes, total memory and CPU, with the kernel's control groups.

rlimits count per process (memory, CPU) or per user (processes; and not at all for
root, which is what the sandbox's ``nobody`` is outside its namespace when grading runs
as root). So when this process may create control groups (root, cgroup v1 ``pids`` and
``memory`` hierarchies, or a cgroup v2 tree with those controllers delegated), each
submission gets its own: ``pids.max`` caps the processes of the whole sandbox and the
memory limit caps all its memory together. Where the ``cpu`` controller is there too, a
CPU quota caps the whole sandbox at ``cpus`` cores, however many processes it forks, so
one submission cannot starve the classmates graded beside it. :func:`submission_cgroups` yields the
folders to join; :data:`JOIN` is the shell snippet that moves the sandbox into them
before anything of it runs. Where none can be made, it yields nothing and
:func:`cgroup_problem` says why.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
ENV = "COURSE_CGROUPS"
PREFIX = "course-grading-"  # then the creating process's pid, a dash, a counter
# Run by /bin/sh before exec'ing the sandbox: join every group listed in $COURSE_CGROUPS.
JOIN = 'for group in $COURSE_CGROUPS; do echo $$ > "$group/cgroup.procs" || exit 125; done; exec "$@"'
_names = itertools.count()


def _own_path(controller: str) -> str | None:
    """This process's cgroup path for ``controller`` (v1), or its v2 path for ``""``."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers.split(",") == [controller] or (controller == "" and controllers == ""):
            return path
    return None


CPU_PERIOD_MICROSECONDS = 100_000


def _parents() -> dict[str, Path]:
    """Where new groups go: {controller: parent folder} (v1), or {"v2": parent}; empty when
    ``pids`` and ``memory`` are not both there (``cpu`` is used when it is there)."""
    if (ROOT / "cgroup.controllers").exists():  # v2, unified
        own = _own_path("")
        parent = ROOT / (own or "/").lstrip("/")
        wanted = {"pids", "memory"}
        if not wanted <= set((parent / "cgroup.controllers").read_text().split()):
            return {}
        return {"v2": parent}
    found = {}
    for controller in ("pids", "memory", "cpu"):
        own = _own_path(controller)
        if own is not None and (ROOT / controller).is_dir():
            found[controller] = ROOT / controller / own.lstrip("/")
    return found if {"pids", "memory"} <= set(found) else {}


@functools.cache
def cgroup_problem() -> str | None:
    """Why no per-submission control group can be made here, or None."""
    try:
        with submission_cgroups(processes=16, memory_bytes=1024**3, cpus=1.0) as groups:
            if not groups:
                return "no cgroup hierarchy with the pids and memory controllers is writable here"
    except OSError as error:
        return f"cannot create control groups here ({error})"
    return None


@contextlib.contextmanager
def submission_cgroups(processes: int, memory_bytes: int, cpus: float) -> Iterator[list[Path]]:
    """New control groups capping ``processes``, ``memory_bytes`` and (where the ``cpu``
    controller is there) ``cpus`` cores for one sandbox; removed after."""
    parents = _parents()
    for parent in parents.values():
        _sweep(parent)
    name = f"{PREFIX}{os.getpid()}-{next(_names)}"
    made: list[Path] = []
    try:
        if "v2" in parents:
            control = parents["v2"] / "cgroup.subtree_control"
            available = set((parents["v2"] / "cgroup.controllers").read_text().split())
            wanted = {"pids", "memory"} | ({"cpu"} & available)
            if not wanted <= set(control.read_text().split()):
                control.write_text(" ".join(f"+{controller}" for controller in sorted(wanted)))
            group = parents["v2"] / name
            group.mkdir()
            made.append(group)
            (group / "pids.max").write_text(str(processes))
            (group / "memory.max").write_text(str(memory_bytes))
            (group / "memory.swap.max").write_text("0")
            if "cpu" in wanted:
                (group / "cpu.max").write_text(f"{round(cpus * CPU_PERIOD_MICROSECONDS)} {CPU_PERIOD_MICROSECONDS}")
        else:
            for controller, parent in parents.items():
                group = parent / name
                group.mkdir()
                made.append(group)
                if controller == "pids":
                    (group / "pids.max").write_text(str(processes))
                elif controller == "memory":
                    (group / "memory.limit_in_bytes").write_text(str(memory_bytes))
                else:
                    (group / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_MICROSECONDS))
                    (group / "cpu.cfs_quota_us").write_text(str(round(cpus * CPU_PERIOD_MICROSECONDS)))
        yield made
    finally:
        for group in made:
            _remove(group)


def _sweep(parent: Path) -> None:
    """Remove groups left by graders that have ended (a group is kept while processes linger)."""
    for stale in parent.glob(f"{PREFIX}*-*"):
        creator = stale.name.removeprefix(PREFIX).split("-")[0]
        if creator.isdigit() and not Path(f"/proc/{creator}").exists():
            with contextlib.suppress(OSError):
                stale.rmdir()


def _remove(group: Path) -> None:
    """rmdir a group once its processes are gone (the kernel reaps them shortly after they exit);
    one still busy after 5 s is left for :func:`_sweep` to remove later."""
    for _ in range(50):
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)
