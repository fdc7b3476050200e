"""Every requirement of every exercise statement has a check, and every check verifies a requirement.

``tests/statement_checks/<topic>.toml`` maps each chapter's statements to its checks (the
format is in that folder's README). Read together with the chapter source, the
notebook's graded cells and the wrong implementations (tests/wrong_cases.py), it must show:

- each bullet of a statement is quoted by a requirement, and each quote is in its statement;
- each requirement names the check calls (scenarios) that verify it, exactly as a graded
  cell makes them, and the wrong implementations that break it, whose expected failure
  is one of those checks;
- each check function the graded cells call verifies some requirement, and each wrong
  implementation breaks some requirement.
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

from coursekit.chapters import part
from tests.graded_cells import is_test
from tests.wrong_cases import wrong_cases
from tools.chapter_source import Chapter, chapters, read_cells

MAPS = Path(__file__).parent / "statement_checks"
CLAUSES = ("set", "boundary")
CHAPTERS = [chapter for chapter in chapters() if any("statement" in cell.metadata for cell in read_cells(chapter))]


@dataclass(frozen=True)
class Requirement:
    statement: str
    says: str
    checks: list[str]
    broken_by: list[str]
    clause: str | None = None  # "set": names a class or set; "boundary": a boundary or an "instead" rule
    covered: str = ""  # how the checks cover it: every member, members drawn, the boundary and both sides

    def __str__(self) -> str:
        return f"[{self.statement}] {self.says!r}"


def normalized(text: str) -> str:
    """``text`` with every run of whitespace made one space."""
    return " ".join(text.split())


def requirements(chapter: Chapter) -> list[Requirement]:
    path = MAPS / f"{chapter.topic}.toml"
    assert path.is_file(), f"{chapter.assignment}: no statement -> check map at {path.relative_to(MAPS.parent.parent)}"
    entries: list[dict[str, Any]] = tomllib.loads(path.read_text(encoding="utf-8")).get("requirement", [])
    assert entries, f"{path.name}: no [[requirement]] entries"
    found = []
    for entry in entries:
        unknown = set(entry) - {"statement", "says", "checks", "broken_by", "clause", "covered"}
        assert not unknown, f"{path.name}: unknown keys {sorted(unknown)} in {entry}"
        assert entry.get("clause") in (None, *CLAUSES), f"{path.name}: clause is one of {CLAUSES}: {entry}"
        assert bool(entry.get("clause")) == bool(entry.get("covered")), (
            f"{path.name}: a requirement with a clause says how its checks cover it (covered), and only then: {entry}"
        )
        found.append(
            Requirement(
                entry["statement"],
                entry["says"],
                entry["checks"],
                entry.get("broken_by", []),
                entry.get("clause"),
                entry.get("covered", ""),
            )
        )
    return found


def statements(chapter: Chapter) -> dict[str, str]:
    """Statement id -> its markdown."""
    return {
        cell.metadata["statement"]: str(cell.source) for cell in read_cells(chapter) if "statement" in cell.metadata
    }


def bullets(markdown: str) -> list[str]:
    """The top-level list items of ``markdown`` (``*``, ``-`` or ``1.``), each with its continuation
    lines and nested items, whitespace-normalized."""
    items: list[list[str]] = []
    current: list[str] | None = None
    for line in markdown.splitlines():
        if re.match(r"^(\*|-|\d+\.)\s", line):
            current = [re.sub(r"^(\*|-|\d+\.)\s+", "", line)]
            items.append(current)
        elif current is not None and line.startswith((" ", "\t")) and line.strip():
            current.append(line)
        else:
            current = None
    return [normalized(" ".join(item)) for item in items]


def graded_calls(chapter: Chapter) -> set[str]:
    """Every top-level call statement of the notebook's graded cells, hidden ones included, as
    ``ast.unparse`` writes it."""
    notebook = nbformat.read(chapter.notebook, as_version=4)
    calls = set()
    for cell in notebook.cells:
        if cell.cell_type == "code" and is_test(cell):
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call | ast.Await):
                    calls.add(ast.unparse(node.value))
    return calls


def function_of(call: str) -> str:
    node = ast.parse(call, mode="eval").body
    if isinstance(node, ast.Await):
        node = node.value
    assert isinstance(node, ast.Call), f"not a call: {call}"
    return ast.unparse(node.func)


def expected_checks(topic: str) -> dict[str, str]:
    """Name of each wrong implementation of ``topic`` -> the check its ``EXPECT`` says must fail."""
    return {case.name: str(case.expect["check"]) for case in wrong_cases(topic)}


chapter_param = pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.assignment)


@chapter_param
def test_every_bullet_of_every_statement_is_a_requirement(chapter: Chapter) -> None:
    texts = statements(chapter)
    quoted = requirements(chapter)
    unknown = sorted({r.statement for r in quoted} - set(texts))
    assert not unknown, f"{chapter.topic}.toml names statements the chapter does not have: {unknown}"
    missing = [
        f"[{statement}] {bullet}"
        for statement, markdown in texts.items()
        for bullet in bullets(markdown)
        if not any(r.statement == statement and normalized(r.says) in bullet for r in quoted)
    ]
    assert not missing, "statement bullets no requirement quotes:\n" + "\n".join(missing)


@chapter_param
def test_every_requirement_quotes_its_statement(chapter: Chapter) -> None:
    texts = statements(chapter)
    misquoted = [str(r) for r in requirements(chapter) if normalized(r.says) not in normalized(texts[r.statement])]
    assert not misquoted, "requirements whose words are not in their statement:\n" + "\n".join(misquoted)


@chapter_param
def test_every_requirement_is_verified_by_graded_checks(chapter: Chapter) -> None:
    calls = graded_calls(chapter)
    problems = []
    for requirement in requirements(chapter):
        if not requirement.checks:
            problems.append(f"{requirement}: no check")
        for call in requirement.checks:
            if ast.unparse(ast.parse(call, mode="eval").body) not in calls:
                problems.append(f"{requirement}: {call} is not a call any graded cell makes")
    assert not problems, "\n".join(problems)


@chapter_param
def test_every_requirement_is_broken_by_a_wrong_implementation_its_checks_catch(chapter: Chapter) -> None:
    problems = []
    expected = expected_checks(chapter.topic)
    for requirement in requirements(chapter):
        if not requirement.broken_by:
            problems.append(f"{requirement}: no wrong implementation shows that its checks can fail")
        checked = {function_of(call) for call in requirement.checks}
        for stem in requirement.broken_by:
            if stem not in expected:
                problems.append(f"{requirement}: no tests/wrong_implementations/{chapter.topic}/{stem}.diff")
            elif (check := expected[stem]) not in checked:
                problems.append(f"{requirement}: {stem} is expected to fail {check}, not one of {sorted(checked)}")
    assert not problems, "\n".join(problems)


@chapter_param
def test_every_check_verifies_a_requirement(chapter: Chapter) -> None:
    checks = vars(part(chapter.topic, "checks"))
    mapped = {function_of(call) for requirement in requirements(chapter) for call in requirement.checks}
    called = {function_of(call) for call in graded_calls(chapter)} & set(checks)
    unmapped = sorted(called - mapped)
    assert not unmapped, f"graded cells call checks that verify no stated requirement: {unmapped}"


@chapter_param
def test_every_wrong_implementation_breaks_a_requirement(chapter: Chapter) -> None:
    named = {stem for requirement in requirements(chapter) for stem in requirement.broken_by}
    kept = {case.name for case in wrong_cases(chapter.topic)}
    assert not kept - named, f"wrong implementations that break no listed requirement: {sorted(kept - named)}"
