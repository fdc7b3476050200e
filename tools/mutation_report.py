#!/usr/bin/env python3
"""Mutation testing of the checks: which wrong versions of each reference do they let through?

    .venv/bin/python tools/mutation_report.py              # every chapter
    .venv/bin/python tools/mutation_report.py ch05 ch06    # some

For each chapter, mutmut makes small wrong versions ("mutants") of ``solutions/<topic>.py``
(``>=`` becomes ``>``, an argument becomes ``None``, ...) and runs, against each, the
chapter's graded cells with every visible and hidden check
(``tests/test_reference_passes_graded_cells.py``). A mutant that passes them all
*survived*: a wrong program the checks accept. Each survivor must be killed by a sharper
check, or listed in ``tools/equivalent_mutants/<topic>.toml`` with a one-line reason why it is not
wrong (it behaves exactly as the reference). mutmut works in a scratch copy of the
repository, so the working tree is never touched.

Prints, per chapter: mutants, killed, equivalent, survived (and the diffs of the
survivors); exits 1 if any survivor is unexplained.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.chapter_source import ROOT, Chapter, chapters  # noqa: E402  (after the path is set)

EQUIVALENTS = ROOT / "tools" / "equivalent_mutants"
COPIED = ["solutions", "coursekit", "tools", "tests", "notebooks", "chapters", "conftest.py", "pyproject.toml"]
MUTMUT = str(Path(sys.executable).parent / "mutmut")


@dataclass
class Report:
    """The outcome of one chapter's mutants, by mutmut's status."""

    chapter: Chapter
    statuses: dict[str, str] = field(default_factory=dict)
    equivalent: dict[str, str] = field(default_factory=dict)
    diffs: dict[str, str] = field(default_factory=dict)

    @property
    def killed(self) -> list[str]:
        return [name for name, status in self.statuses.items() if status == "killed"]

    @property
    def survived(self) -> list[str]:
        """Mutants no check failed on (timeouts and mutants no test reached count too), unexplained."""
        return [name for name, status in self.statuses.items() if status != "killed" and name not in self.equivalent]


def equivalent_mutants() -> dict[str, str]:
    """Mutant name -> why it is not a wrong program, from every tools/equivalent_mutants/<topic>.toml."""
    return {
        name: reason
        for path in sorted(EQUIVALENTS.glob("*.toml"))
        for name, reason in tomllib.loads(path.read_text(encoding="utf-8")).get("equivalent", {}).items()
    }


def run_mutmut(chapter: Chapter, scratch: Path) -> Report:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, scratch / name, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        else:
            shutil.copy2(source, scratch / name)
    with (scratch / "pyproject.toml").open("a", encoding="utf-8") as config:
        config.write(
            "\n[tool.mutmut]\n"
            f'source_paths = ["solutions/{chapter.topic}.py"]\n'
            f"also_copy = {[name for name in COPIED if name != 'pyproject.toml']!r}\n".replace("'", '"')
            + 'pytest_add_cli_args_test_selection = ["tests/test_reference_passes_graded_cells.py", '
            f'"-k", "{chapter.assignment[:4]}"]\n'
        )
    subprocess.run([MUTMUT, "run"], cwd=scratch, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    results = subprocess.run(
        [MUTMUT, "results", "--all", "true"], cwd=scratch, check=True, capture_output=True, text=True
    ).stdout
    report = Report(chapter)
    for line in results.splitlines():
        found = re.fullmatch(r"\s*(\S+): (.+)", line)
        if found:
            report.statuses[found[1]] = found[2]
    known = equivalent_mutants()
    report.equivalent = {name: known[name] for name in report.statuses if name in known}
    for name in report.survived:
        shown = subprocess.run([MUTMUT, "show", name], cwd=scratch, capture_output=True, text=True).stdout
        report.diffs[name] = shown.strip()
    return report


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", help="chNN prefixes (default: every chapter)")
    args = parser.parse_args(argv)
    reports = []
    for chapter in chapters(args.chapters):
        print(f"mutating solutions/{chapter.topic}.py ...", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix=f"mutation-{chapter.assignment}-") as scratch:
            reports.append(run_mutmut(chapter, Path(scratch)))
    print(f"{'chapter':<26} {'mutants':>8} {'killed':>8} {'equivalent':>11} {'survived':>9}")
    for report in reports:
        print(
            f"{report.chapter.assignment:<26} {len(report.statuses):>8} {len(report.killed):>8} "
            f"{len(report.equivalent):>11} {len(report.survived):>9}"
        )
    for report in reports:
        for name in report.survived:
            print(f"\nsurvived ({report.statuses[name]}): {name}\n{report.diffs[name]}")
    return 1 if any(report.survived for report in reports) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
