#!/usr/bin/env python3
"""How much a CPU-hogging submission slows the classmate graded beside it, with and without the
sandbox's CPU quota (``Limits.cpus``, a cgroup quota; autograder/cgroups.py).

    .venv/bin/python benchmarks/cpu_neighbour.py [ROUNDS]   # default: 3 rounds

The honest notebook is chapter 0 solved. The hog is the same notebook whose first answer forks
eight children that spin until its sandbox ends, then sleeps 30 s so that they spin all the
while the honest one is graded. Each round grades the honest notebook alone, then beside the
hog with the quota (one core, the default), then beside the hog without one (a quota of 64
cores, i.e. none on this machine). It prints the honest notebook's wall time in each setting,
the median over the rounds, and the slowdown against alone. Needs root (or a delegated cgroup
v2 tree) for the quota; figures vary with the machine's load.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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


def honest_seconds(kit: GradingKit, honest: bytes, hog: bytes | None, cpus: float) -> float:
    """Wall time of grading ``honest``, started 2 s after ``hog`` (when given) with quota ``cpus``."""
    if hog is not None:
        threading.Thread(target=grade_submission, args=(kit, "hog.ipynb", hog, replace(LIMITS, cpus=cpus))).start()
        time.sleep(2)  # the hog's children are spinning
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
        "alone": (None, 1.0),
        "beside the hog, quota 1 core": (hog, 1.0),
        "beside the hog, no quota": (hog, 64.0),
    }
    seconds: dict[str, list[float]] = {name: [] for name in settings}
    for number in range(1, rounds + 1):
        for name, (other, cpus) in settings.items():
            seconds[name].append(honest_seconds(kit, honest, other, cpus))
            time.sleep(31)  # the hog's sandbox has ended
        print(f"round {number}: " + ", ".join(f"{name} {times[-1]:.1f} s" for name, times in seconds.items()))
    alone = statistics.median(seconds["alone"])
    print(f"\nthe honest notebook's grading time, median of {rounds} rounds (2 cores):")
    for name, times in seconds.items():
        median = statistics.median(times)
        print(f"  {name:<30} {median:6.1f} s  {median / alone:5.2f}x alone")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
