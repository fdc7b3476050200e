#!/usr/bin/env python3
"""Grading throughput: grade-all (sandboxed, on a local Dask cluster) beside plain serial nbgrader.

    .venv/bin/python benchmarks/grading_throughput.py [N] [ROUNDS]   # defaults: 20 copies, 2 rounds

Both sides grade the same N solved copies of chapter 0, each side in a fresh
temporary course released beforehand (not timed):

- ``nbgrader autograde``: one plain, unsandboxed ``nbgrader autograde`` command over all
  learners, one at a time (nbgrader's own way): execute and record;
- ``grade-all`` (:func:`autograder.batch.grade_chapter`, what the command runs, with its
  defaults): every notebook rebuilt and run in its own bubblewrap sandbox, as Dask tasks
  on a local cluster, each batch of finished notebooks recorded through nbgrader's API
  with its feedback while the rest are graded, then grades.csv: more work than the other
  side does.

A virtual machine's speed drifts by a third within minutes, so the sides take turns over
ROUNDS rounds, the first side alternating (serial first in odd rounds). Each round
prints both wall times, the whole machine's CPU time per notebook while each side ran,
the ratio, how long grade-all went on after its last notebook was graded (recording the
last batch, grades.csv) and whether every learner got the same score on both sides. The
end prints the throughput ratio over all rounds (total serial time / total grade-all
time) and where one sandboxed notebook's time goes (from the cells' execution
timestamps). Figures vary with the machine's load.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.batch import grade_chapter  # noqa: E402
from autograder.chapters import COURSE_DIR, Chapter  # noqa: E402
from autograder.grading import grade_submission  # noqa: E402
from autograder.kit import GradingKit, load_kit  # noqa: E402
from autograder.nbgrader_run import tools_env  # noqa: E402
from autograder.release import ensure_released  # noqa: E402
from autograder.sandbox import Limits, bwrap_command, run_capped  # noqa: E402
from tests.hostile_submissions import CHAPTER, SOURCE, solved  # noqa: E402

T = TypeVar("T")


def course_with_copies(copies: int) -> Path:
    """A released temporary course whose submitted/ holds ``copies`` solved notebooks."""
    root = Path(tempfile.mkdtemp(prefix="grading-bench-"))
    course = root / "autograder"
    course.mkdir()
    shutil.copy2(COURSE_DIR / "nbgrader_config.py", course)
    shutil.copytree(SOURCE.parent, root / "notebooks" / CHAPTER)
    for number in range(copies):
        folder = course / "submitted" / f"learner{number:03d}" / CHAPTER
        folder.mkdir(parents=True)
        nbformat.write(solved(), folder / SOURCE.name)
    ensure_released([Chapter(CHAPTER, root / "notebooks" / CHAPTER)], course)
    return course


def gradebook_scores(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {s.student.id: s.score for s in gradebook.assignment_submissions(CHAPTER)}


def machine_cpu_seconds() -> float:
    """CPU time every core of this machine has spent busy since boot (Linux's /proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields) - idle - iowait) / os.sysconf("SC_CLK_TCK")


def nbgrader_autograde(course: Path) -> None:
    command = [sys.executable, "-m", "nbgrader", "autograde", CHAPTER, "--force"]
    subprocess.run(command, cwd=course, env=tools_env(), check=True, capture_output=True)


def breakdown(kit: GradingKit, data: bytes) -> list[tuple[str, float]]:
    """One notebook graded alone, in phases: from the cells' execution timestamps and clocks."""
    started = time.perf_counter()
    run_capped(bwrap_command(["/bin/true"], Limits(), {}, {}), b"", Limits(), {"PATH": os.environ["PATH"]})
    empty_sandbox = time.perf_counter() - started
    started, wall_started = time.perf_counter(), time.time()
    graded = grade_submission(kit, "one.ipynb", data, Limits())
    whole = time.perf_counter() - started
    assert graded.executed is not None
    times = [c["metadata"]["execution"] for c in graded.executed["cells"] if c["metadata"].get("execution")]
    first = datetime.fromisoformat(times[0]["iopub.status.busy"].replace("Z", "+00:00")).timestamp()
    last = datetime.fromisoformat(times[-1]["iopub.status.idle"].replace("Z", "+00:00")).timestamp()
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import nbgrader.apps"], check=True)
    nbgrader_import = time.perf_counter() - started
    return [
        ("whole notebook, sandboxed", whole),
        ("  an empty sandbox (bwrap + prlimit)", empty_sandbox),
        ("  sandbox start to first cell (runner + kernel start)", first - wall_started),
        ("  its cells", last - first),
        ("  last cell to result (kernel shutdown, scoring)", whole - (last - wall_started)),
        ("for comparison: nbgrader's start-up (python + import)", nbgrader_import),
    ]


def timed_round(copies: int, grade: Callable[[Path], T]) -> tuple[float, float, dict[str, float], T]:
    """``grade`` over a fresh course of ``copies`` notebooks: its wall time, the machine's CPU
    time meanwhile, the gradebook's scores, and what ``grade`` returned."""
    course = course_with_copies(copies)
    started, cpu = time.perf_counter(), machine_cpu_seconds()
    returned = grade(course)
    seconds, cpu = time.perf_counter() - started, machine_cpu_seconds() - cpu
    scores = gradebook_scores(course)
    shutil.rmtree(course.parent, ignore_errors=True)
    return seconds, cpu, scores, returned


def grade_all(course: Path) -> float:
    """grade-all (:func:`grade_chapter` with its defaults) over ``course``; returns how long it
    went on after its last notebook was graded."""
    graded_at: list[float] = []
    grade_chapter(CHAPTER, course_dir=course, progress=False, on_graded=lambda _: graded_at.append(time.perf_counter()))
    return time.perf_counter() - graded_at[-1]


def main() -> None:
    copies = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    print(f"{copies} solved copies of {CHAPTER}; {os.cpu_count()} cores; {rounds} rounds\n")
    header = ("round", "load", "serial nbgrader", "CPU/nb", "grade-all", "CPU/nb", "after last", "ratio")
    print("{:<6} {:>5} {:>16} {:>7} {:>10} {:>7} {:>11} {:>6}  same scores".format(*header))
    totals = [0.0, 0.0]
    for number in range(1, rounds + 1):
        load = os.getloadavg()[0]
        if number % 2:
            serial, serial_cpu, serial_scores, _ = timed_round(copies, nbgrader_autograde)
            ours, our_cpu, our_scores, tail = timed_round(copies, grade_all)
        else:
            ours, our_cpu, our_scores, tail = timed_round(copies, grade_all)
            serial, serial_cpu, serial_scores, _ = timed_round(copies, nbgrader_autograde)
        totals[0] += serial
        totals[1] += ours
        same = "yes" if serial_scores == our_scores and len(our_scores) == copies else "NO"
        print(
            f"{number:<6} {load:5.1f} {serial:14.1f} s {serial_cpu / copies:5.2f} s {ours:8.1f} s "
            f"{our_cpu / copies:5.2f} s {tail:9.1f} s {serial / ours:5.2f}x  {same}",
            flush=True,
        )
    serial_rate, our_rate = (copies * rounds / seconds * 60 for seconds in totals)
    print(f"\nnbgrader autograde (serial, unsandboxed):         {serial_rate:6.1f} notebooks/min")
    print(f"grade-all (sandboxed on Dask, recorded, feedback): {our_rate:6.1f} notebooks/min")
    print(f"throughput over all rounds, grade-all / serial nbgrader autograde: {totals[0] / totals[1]:.2f}x")
    print("(CPU/nb: the whole machine's CPU time while that side ran, per notebook)")

    print("\nwhere one sandboxed notebook's time goes:")
    course = course_with_copies(1)
    kit = load_kit(Chapter(CHAPTER, course.parent / "notebooks" / CHAPTER), course)
    one = (course / "submitted" / "learner000" / CHAPTER / SOURCE.name).read_bytes()
    for label, seconds in breakdown(kit, one):
        print(f"  {label:<52} {seconds:5.2f} s")
    shutil.rmtree(course.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
