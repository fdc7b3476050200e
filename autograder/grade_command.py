"""The grading commands of ``python -m autograder``.

``grade PATH.ipynb [--json] [--chapter CHAPTER]`` grades one notebook. It prints a readable report (or, with ``--json``, one JSON object: chapter, score,
max_score, tests with id/points/max_points/passed/message, and problem). Exits 0
whatever the score; 2 when the file cannot be graded at all (bad path, not a
notebook of this course), with the reason on stderr.

``grade-all CHAPTER [--workers N]`` grades every submission of a chapter (see
:mod:`autograder.batch`): progress bar on stderr, summary table on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from autograder.batch import grade_chapter, summary_table
from autograder.grading import grade_file
from autograder.submission import NotGradable


def add_parser(commands: argparse._SubParsersAction) -> None:
    grade = commands.add_parser("grade", help="grade one notebook (sandboxed) and print the result")
    grade.add_argument("path", type=Path, metavar="PATH.ipynb")
    grade.add_argument("--json", action="store_true", help="print one JSON object instead of a report")
    grade.add_argument(
        "--chapter", metavar="CHAPTER", help="the assignment it was submitted for (default: found from the notebook)"
    )
    batch = commands.add_parser("grade-all", help="collect, grade, give feedback on and export a chapter")
    batch.add_argument("chapter", metavar="CHAPTER")
    batch.add_argument("--workers", type=int, default=2, help="notebooks graded at once (default: 2)")


def run_batch(args: argparse.Namespace) -> int:
    results = grade_chapter(args.chapter, workers=args.workers)
    print(summary_table(results))
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        report = grade_file(args.path, args.chapter)
    except NotGradable as error:
        print(f"cannot grade: {error}", file=sys.stderr)
        return 2
    except ValueError as error:  # an unknown --chapter
        print(f"cannot grade: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report.to_dict(), ensure_ascii=False) if args.json else report.render())
    return 0
