"""The wrong implementations: patches of a chapter's reference (tests/wrong_implementations/README.md).

Each ``tests/wrong_implementations/<topic>/<name>.diff`` is a header (what the bug is, then the
``EXPECT`` dict) followed by a unified diff of ``solutions/<topic>.py``. :func:`wrong_cases` lists
them; a case's ``code``, its solution cell, is made from its diff applied to the reference as it is
now: the top-level statements of the patched module that the reference does not have, in module
order. A hunk whose lines are not in the reference (exactly, wherever they moved to) stops with
the file and the hunk.

To add or change one, edit a copy of the reference (``show`` prints a case's patched module), then
let ``write`` put its diff under the case's header (a new case gets a header to fill in)::

    .venv/bin/python -m tests.wrong_cases show <topic>/<name> > /tmp/edited.py
    .venv/bin/python -m tests.wrong_cases write <topic>/<name> /tmp/edited.py

When the reference changed where a case's hunk applies, ``show <topic>/<name> --reference REV``
patches the reference as git has it at REV (one the diff applied to, e.g. ``HEAD~1``): carry the
reference's change into that copy, and ``write`` it.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import functools
import importlib
import linecache
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "tests" / "wrong_implementations"
HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
NEW_HEADER = """TODO: one line saying what the bug is (and which source document has it, if one does).

EXPECT = {
    "check": "check_TODO",
    "property": "TODO",
    "observed": "TODO",
}
"""


class PatchError(Exception):
    """A wrong implementation's file cannot be read, or its diff does not apply to the reference."""


@dataclass(frozen=True)
class WrongCase:
    """One wrong implementation: what its bug is, the check failure it must cause, and its solution cell."""

    path: Path
    topic: str
    name: str
    description: str
    expect: dict[str, Any] = field(hash=False)

    @property
    def id(self) -> str:
        return f"{self.topic}/{self.name}"

    @property
    def code(self) -> str:
        """The solution cell: the top-level statements the diff changes or adds, in the reference's
        order. Made when a test first asks for it, so a diff that no longer applies fails that test."""
        return solution_cell(self.path)

    def names(self) -> dict[str, Any]:
        """The namespace of the chapter's reference module with the solution cell run in it, as a
        learner's cell runs in their notebook."""
        namespace = dict(vars(importlib.import_module(f"solutions.{self.topic}")))
        exec(compile(self.code, self.filename, "exec"), namespace)
        return namespace

    @property
    def filename(self) -> str:
        """The name to compile ``code`` under: its lines are in :mod:`linecache` under that name, so
        tracebacks and the checks' "at line N of f(): ..." quote them."""
        name = f"<wrong implementation {self.id}>"
        code = self.code
        linecache.cache[name] = (len(code), None, code.splitlines(keepends=True), name)
        return name


def wrong_cases(topic: str | None = None) -> list[WrongCase]:
    """Every wrong implementation (of ``topic`` only, if given), by topic and name."""
    return [wrong_case(path) for path in sorted(FOLDER.glob(f"{topic or '*'}/*.diff"))]


def wrong_case(path: Path) -> WrongCase:
    """The case in ``path`` (``<topic>/<name>.diff``), read from its header."""
    description, expect = parse_header(split(path.read_text(encoding="utf-8"), path)[0], path)
    return WrongCase(path, path.parent.name, path.stem, description, expect)


@functools.cache
def solution_cell(path: Path) -> str:
    """The code of the case in ``path``: its diff applied to the reference, what changed kept."""
    topic = path.parent.name
    reference = reference_source(topic)
    diff = split(path.read_text(encoding="utf-8"), path)[1]
    return changed_statements(reference, patched(reference, diff, topic, path), path)


def reference_path(topic: str) -> Path:
    return ROOT / "solutions" / f"{topic}.py"


@functools.cache
def reference_source(topic: str, revision: str | None = None) -> str:
    """``solutions/<topic>.py`` as it is now, or as git has it at ``revision``."""
    if revision is None:
        return reference_path(topic).read_text(encoding="utf-8")
    shown = subprocess.run(
        ["git", "show", f"{revision}:solutions/{topic}.py"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if shown.returncode:
        raise SystemExit(shown.stderr.strip())
    return shown.stdout


def split(text: str, path: Path) -> tuple[str, str]:
    """(header, diff): the diff starts at the first ``--- `` line, as patch tools read it."""
    start = re.search(r"^--- ", text, re.MULTILINE)
    if start is None:
        raise PatchError(f"{path}: no diff (no line starts with '--- ')")
    return text[: start.start()], text[start.start() :]


def parse_header(header: str, path: Path) -> tuple[str, dict[str, Any]]:
    """(description, EXPECT): the text before ``EXPECT = {...}``, and that dict."""
    parts = re.split(r"^EXPECT = ", header, maxsplit=1, flags=re.MULTILINE)
    if len(parts) != 2 or not parts[0].strip():
        raise PatchError(f"{path}: the header needs a description, then 'EXPECT = {{...}}'")
    try:
        expect = ast.literal_eval(parts[1].strip())
    except (SyntaxError, ValueError) as error:
        raise PatchError(f"{path}: EXPECT is not a Python literal: {error}") from error
    if not isinstance(expect, dict) or "check" not in expect:
        raise PatchError(f"{path}: EXPECT must be a dict naming its 'check'")
    return parts[0].strip(), expect


def hunks(diff: str, topic: str, path: Path) -> Iterator[tuple[str, int, list[str], list[str]]]:
    """Each hunk of ``diff`` as (its ``@@`` line, its old start line, its old lines, its new lines)."""
    lines = diff.splitlines(keepends=True)
    expected = [f"--- a/solutions/{topic}.py", f"+++ b/solutions/{topic}.py"]
    if [line.rstrip("\n").split("\t")[0] for line in lines[:2]] != expected:
        raise PatchError(f"{path}: the diff must start with {expected}, not {[line.rstrip() for line in lines[:2]]}")
    at = 2
    while at < len(lines):
        if not lines[at].strip():  # a blank line between hunks or at the end
            at += 1
            continue
        match = HUNK.match(lines[at])
        if match is None:
            raise PatchError(f"{path}: expected a hunk's '@@' line, found {lines[at].rstrip()!r}")
        header, old_count, new_count = lines[at].rstrip(), int(match[2] or 1), int(match[4] or 1)
        old: list[str] = []
        new: list[str] = []
        at += 1
        while at < len(lines) and (len(old) < old_count or len(new) < new_count):
            line = lines[at] if lines[at] != "\n" else " \n"  # an editor may strip an empty context line
            if line[0] not in " -+":
                raise PatchError(f"{path}: hunk {header}: line {line.rstrip()!r} is neither context, - nor +")
            if line[0] in " -":
                old.append(line[1:])
            if line[0] in " +":
                new.append(line[1:])
            at += 1
        if (len(old), len(new)) != (old_count, new_count):
            raise PatchError(
                f"{path}: hunk {header} has {len(old)} old and {len(new)} new lines, "
                f"not the {old_count} and {new_count} it announces"
            )
        yield header, int(match[1]), old, new


def patched(reference: str, diff: str, topic: str, path: Path) -> str:
    """``reference`` with ``diff`` applied. Each hunk's old lines must stand in the reference exactly
    (no fuzz), after the previous hunk, nearest to the line the hunk names: a reference edited
    elsewhere moves a hunk, one edited where a hunk applies stops it."""
    lines = reference.splitlines(keepends=True)
    result: list[str] = []
    done = 0  # the reference's lines consumed so far
    for header, start, old, new in hunks(diff, topic, path):
        wanted = start - 1 if old else start  # a hunk of additions only names the line it follows
        places = [at for at in range(done, len(lines) - len(old) + 1) if lines[at : at + len(old)] == old]
        if not places:
            raise PatchError(
                f"{path}: hunk {header} does not apply to solutions/{topic}.py: its lines "
                f"{''.join(old).strip()[:300]!r} are not there (the reference changed there: redo the diff as "
                "tests/wrong_implementations/README.md says)"
            )
        at = min(places, key=lambda place: abs(place - wanted))
        result += lines[done:at] + new
        done = at + len(old)
    return "".join(result + lines[done:])


@functools.cache
def top_level(source: str) -> list[tuple[str, str]]:
    """Each top-level statement of ``source`` as (its ``ast.dump``, its text, decorators included)."""
    lines = source.splitlines(keepends=True)
    found = []
    for node in ast.parse(source).body:
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        found.append((ast.dump(node), "".join(lines[first - 1 : node.end_lineno])))
    return found


def changed_statements(reference: str, patched_source: str, path: Path) -> str:
    """The top-level statements of ``patched_source`` that ``reference`` does not have, in order."""
    unchanged = Counter(dump for dump, _ in top_level(reference))
    try:
        statements = top_level(patched_source)
    except SyntaxError as error:
        raise PatchError(f"{path}: the patched reference is not Python: {error}") from error
    kept = []
    for dump, text in statements:
        if unchanged[dump]:
            unchanged[dump] -= 1
        else:
            kept.append(text)
    return "\n\n".join(kept)


def diff_of(topic: str, edited: str) -> str:
    """The unified diff (3 lines of context) from the reference of ``topic`` to ``edited``."""
    reference = reference_source(topic)
    return "".join(
        difflib.unified_diff(
            reference.splitlines(keepends=True),
            edited.splitlines(keepends=True),
            f"a/solutions/{topic}.py",
            f"b/solutions/{topic}.py",
            n=3,
        )
    )


def case_path(case: str) -> Path:
    topic, _, name = case.partition("/")
    if not name or not reference_path(topic).is_file():
        raise SystemExit(f"{case}: expected <topic>/<name>, the topic one of solutions/*.py")
    return FOLDER / topic / f"{name}.diff"


def main(argv: list[str] | None = None) -> None:
    try:
        run(argv)
    except PatchError as error:
        raise SystemExit(str(error)) from error


def run(argv: list[str] | None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.wrong_cases", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("show", help="print a case's patched reference module")
    show.add_argument("case", help="<topic>/<name>")
    show.add_argument(
        "--reference",
        metavar="REV",
        help="patch solutions/<topic>.py as git has it at REV (the one the diff was made on)",
    )
    write = commands.add_parser("write", help="write a case's diff from an edited copy of the reference")
    write.add_argument("case", help="<topic>/<name>")
    write.add_argument("edited", type=Path, help="the edited copy of solutions/<topic>.py")
    args = parser.parse_args(argv)
    path = case_path(args.case)
    topic = path.parent.name
    if args.command == "show":
        diff = split(path.read_text(encoding="utf-8"), path)[1]
        print(patched(reference_source(topic, args.reference), diff, topic, path), end="")
        return
    diff = diff_of(topic, args.edited.read_text(encoding="utf-8"))
    if not diff:
        raise SystemExit(f"{args.edited} is the reference: nothing to write")
    header = split(path.read_text(encoding="utf-8"), path)[0] if path.is_file() else NEW_HEADER + "\n"
    path.parent.mkdir(exist_ok=True)
    path.write_text(header + diff, encoding="utf-8")
    changed = [getattr(node, "name", None) or ast.unparse(node) for node in ast.parse(wrong_case(path).code).body]
    print(f"wrote {path.relative_to(ROOT)}: it changes {changed}")


if __name__ == "__main__":
    main()
