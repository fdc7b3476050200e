"""Command line: ``python -m autograder COMMAND``.

release [CHAPTER...]   build the student version of chapters (all by default)
workspace              put released chapters the learner lacks into workspace/;
                       prints the workspace's absolute path (the only stdout line)
publish [CHAPTER...]   offer chapters (all by default) in nbgrader's exchange, where
                       the learner's Assignments tab fetches them; prints their folders
grade PATH.ipynb       grade one notebook in its own sandbox; a report, or --json
grade-all CHAPTER      collect, grade (sandboxed, on Dask), record, feedback, grades.csv
"""

from __future__ import annotations

import argparse
import sys

from autograder import grade_command
from autograder.chapters import select_chapters
from autograder.exchange import publish
from autograder.nbgrader_run import NbgraderFailed
from autograder.release import release
from autograder.workspace import ensure_workspace, workspace_dir


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m autograder", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    release_cmd = commands.add_parser("release", help="build the student version of chapters")
    release_cmd.add_argument(
        "chapters", nargs="*", metavar="CHAPTER", help="assignment names, e.g. ch00_asyncio_in_jupyter (default: all)"
    )
    commands.add_parser("workspace", help="fill workspace/ with the released chapters the learner lacks")
    publish_cmd = commands.add_parser("publish", help="offer chapters in nbgrader's exchange (Assignments tab)")
    publish_cmd.add_argument("chapters", nargs="*", metavar="CHAPTER", help="assignment names (default: all)")
    grade_command.add_parser(commands)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.command == "grade":
        return grade_command.run(args)
    try:
        if args.command == "grade-all":
            return grade_command.run_batch(args)
        if args.command == "release":
            chapters = select_chapters(args.chapters)
            if not chapters:
                print("No chapters found in notebooks/.", file=sys.stderr)
                return 1
            for folder in release(chapters):
                print(folder)
        elif args.command == "workspace":
            print(ensure_workspace(select_chapters([]), workspace_dir()))
        elif args.command == "publish":
            for folder in publish(select_chapters(args.chapters)):
                print(folder)
    except (ValueError, NbgraderFailed) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
