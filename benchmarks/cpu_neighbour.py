#!/usr/bin/env python3
"""How much a CPU-hogging submission slows the classmate graded beside it, with the sandbox's CPU
control group (a quota of ``Limits.cpus`` cores; autograder/cgroups.py) and without one (as before
it existed: the hog's processes then compete one by one with everyone else's).

    .venv/bin/python benchmarks/cpu_neighbour.py [ROUNDS]   # default: 3 rounds

The honest notebook is chapter 0 solved. The hog is the same notebook whose first answer forks
eight children that spin until its sandbox ends, then sleeps 30 s so that they spin all the
while the honest one is graded. Each round grades the honest notebook alone, then beside the
hog in its CPU control group (one core, the default), then beside the hog with no CPU control
group, and, where this process may switch the kernel's autogroup scheduling off (root), the
same two again with it off. (Autogroup gives each session, so each sandbox, a fair share by
itself; many servers run without it.) It prints the honest notebook's wall time in each setting,
the median over the rounds, and the slowdown against alone. Needs root (or a delegated cgroup
v2 tree) for the quota; figures vary with the machine's load.
"""

from __future__ import annotations

import contextlib
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder import cgroups  # noqa: E402
from autograder.cgroups import cgroup_problem  # noqa: E402
from autograder.grading import grade_submission  # noqa: E402
from autograder.kit import GradingKit  # noqa: E402
from autograder.sandbox import Limits  # noqa: E402
from tests.course_copy import released_course  # noqa: E402
from tests.hostile_submissions import SOURCE, in_answer, solved  # noqa: E402

HOG = """
import os, time
for _ in range(8):
    if os.fork() == 0:
        while True:
            pass
time.sleep(30)
"""
LIMITS = Limits(cell_seconds=60, wall_seconds=120)


def without_cpu_groups() -> dict[str, Path]:
    """Where control groups go, without the ``cpu`` controller (as before the CPU quota)."""
    return {controller: parent for controller, parent in PARENTS().items() if controller != "cpu"}


PARENTS = cgroups._parents


AUTOGROUP = Path("/proc/sys/kernel/sched_autogroup_enabled")


@contextlib.contextmanager
def autogroup(on: bool) -> Iterator[None]:
    """The kernel's autogroup scheduling switched ``on`` or off for the block (then as it was)."""
    before = AUTOGROUP.read_text().strip()
    AUTOGROUP.write_text("1" if on else "0")
    try:
        yield
    finally:
        AUTOGROUP.write_text(before)


def may_switch_autogroup() -> bool:
    try:
        with autogroup(AUTOGROUP.read_text().strip() == "1"):
            return True
    except OSError:
        return False


def honest_seconds(kit: GradingKit, honest: bytes, hog: bytes | None, cpu_group: bool) -> float:
    """Wall time of grading ``honest``, started 4 s after ``hog`` (when given), which runs in a CPU
    control group of its own or (not ``cpu_group``) in none."""
    if hog is not None:
        cgroups._parents = PARENTS if cpu_group else without_cpu_groups
        threading.Thread(target=grade_submission, args=(kit, "hog.ipynb", hog, LIMITS)).start()
        time.sleep(4)  # the hog's children are spinning
        cgroups._parents = PARENTS
    started = time.perf_counter()
    report = grade_submission(kit, "honest.ipynb", honest, LIMITS).report
    assert report.score == report.max_score, report.render()
    return time.perf_counter() - started


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    if cgroup_problem():
        sys.exit(f"no CPU quota can be made here: {cgroup_problem()}")
    root = Path(tempfile.mkdtemp(prefix="cpu-neighbour-"))
    _, kit = released_course(root, SOURCE.parent)
    honest, hog = nbformat.writes(solved()).encode(), in_answer(HOG)()
    settings = {
        "alone": (None, True, True),
        "beside the hog, in its CPU group": (hog, True, True),
        "beside the hog, no CPU group": (hog, False, True),
    }
    if may_switch_autogroup():
        settings["autogroup off, in its CPU group"] = (hog, True, False)
        settings["autogroup off, no CPU group"] = (hog, False, False)
    seconds: dict[str, list[float]] = {name: [] for name in settings}
    for number in range(1, rounds + 1):
        for name, (other, cpu_group, autogroup_on) in settings.items():
            with autogroup(autogroup_on) if may_switch_autogroup() else contextlib.nullcontext():
                seconds[name].append(honest_seconds(kit, honest, other, cpu_group))
            time.sleep(31)  # the hog's sandbox has ended
        print(f"round {number}: " + ", ".join(f"{name} {times[-1]:.1f} s" for name, times in seconds.items()))
    alone = statistics.median(seconds["alone"])
    print(f"\nthe honest notebook's grading time, median of {rounds} rounds (2 cores):")
    for name, times in seconds.items():
        median = statistics.median(times)
        print(f"  {name:<34} {median:6.1f} s  {median / alone:5.2f}x alone")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
