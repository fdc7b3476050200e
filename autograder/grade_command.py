"""The grading commands of ``python -m autograder``.

``grade PATH.ipynb [--json] [--chapter CHAPTER] [--unsafe]`` grades one notebook. It
prints a readable report (or, with ``--json``, one JSON object: chapter, score,
max_score, tests with id/points/max_points/passed/message, problem, review). Exits 0
whatever the score; 2 when the file cannot be graded at all (bad path, not a notebook
of this course, no sandbox), with the reason on stderr.

``grade-all CHAPTER [--workers N] [--scheduler tcp://HOST:8786] [--unsafe]`` grades
every submission of a chapter (see :mod:`autograder.batch`): progress bar on stderr,
summary table on stdout.

Without bubblewrap both refuse, saying why; ``--unsafe`` grades without a sandbox and
every report says so.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from autograder.batch import grade_chapter, summary_table, where_results_are
from autograder.cgroups import cgroup_problem
from autograder.chapters import COURSE_DIR, UnknownChapter, select_chapters
from autograder.cluster import ClusterUnfit
from autograder.grading import grade_parsed
from autograder.kit import NotReleased, load_kit
from autograder.report import GradeReport
from autograder.sandbox import DEFAULT_LIMITS, Limits, SandboxUnavailable, sandbox_problem
from autograder.submission import NotGradable, find_chapter, parse_submission

UNSAFE_HELP = "grade without a sandbox (the learner's code runs with your rights); reports say so"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    grade = commands.add_parser("grade", help="grade one notebook (sandboxed) and print the result")
    grade.add_argument("path", type=Path, metavar="PATH.ipynb")
    grade.add_argument("--json", action="store_true", help="print one JSON object instead of a report")
    grade.add_argument(
        "--chapter", metavar="CHAPTER", help="the assignment it was submitted for (default: found from the notebook)"
    )
    grade.add_argument("--unsafe", action="store_true", help=UNSAFE_HELP)
    batch = commands.add_parser("grade-all", help="collect, grade, give feedback on and export a chapter")
    batch.add_argument("chapter", metavar="CHAPTER")
    batch.add_argument("--workers", type=int, help="notebooks graded at once on this machine (default: two per core)")
    batch.add_argument("--scheduler", metavar="tcp://HOST:8786", help="an existing Dask cluster to grade on")
    batch.add_argument("--unsafe", action="store_true", help=UNSAFE_HELP)


def refuse_without_sandbox(unsafe: bool) -> bool:
    """Print why grading cannot be sandboxed here, unless ``unsafe``; True when it must stop.

    Also warns when the sandbox's processes and memory can only be capped per process."""
    problem = sandbox_problem()
    if problem and not unsafe:
        print(f"cannot grade: no sandbox: {problem}. Rerun with --unsafe to grade anyway without one.", file=sys.stderr)
        return True
    weaker = cgroup_problem()
    if not problem and weaker:
        print(f"warning: processes and memory are capped per process only: {weaker}", file=sys.stderr)
    return False


def grade_file(
    path: Path, chapter_name: str | None = None, *, unsafe: bool = False, limits: Limits = DEFAULT_LIMITS
) -> GradeReport:
    """Grade the notebook at ``path`` for ``chapter_name`` (found from the notebook if None); the file
    is read and parsed once."""
    if not path.is_file():
        raise NotGradable(f"{path}: no such file")
    submission = parse_submission(Path(path.name), path.read_bytes())
    if chapter_name is None:
        if submission.notebook is None:
            raise NotGradable(
                f"{path}: {submission.problem}, so its chapter cannot be told; "
                "name it with --chapter to have it graded 0 with this reason"
            )
        chapter_name = find_chapter(submission.notebook).assignment
    kit = load_kit(select_chapters([chapter_name])[0], COURSE_DIR)
    return grade_parsed(kit, submission, limits, unsafe).report


def run_batch(args: argparse.Namespace) -> int:
    if refuse_without_sandbox(args.unsafe):
        return 2
    try:
        results = grade_chapter(args.chapter, workers=args.workers, scheduler=args.scheduler, unsafe=args.unsafe)
    except (UnknownChapter, NotReleased, ClusterUnfit) as error:
        print(f"cannot grade: {error}", file=sys.stderr)
        return 2
    print(summary_table(results))
    print()
    print(where_results_are(args.chapter, results))
    return 0


def run(args: argparse.Namespace) -> int:
    if refuse_without_sandbox(args.unsafe):
        return 2
    try:
        report = grade_file(args.path, args.chapter, unsafe=args.unsafe)
    except (NotGradable, UnknownChapter, NotReleased, SandboxUnavailable) as error:
        print(f"cannot grade: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report.to_dict(), ensure_ascii=False) if args.json else report.render())
    return 0
