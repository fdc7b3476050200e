"""Event kinds are named constants: every kind the course emits (its own code, the references, the
chapters' given code and demos) is a member of coursekit.events.Kind, and coursekit's own code
(given code, analysis, checks, probes, pictures) names kinds only through it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from coursekit.events import Kind

ROOT = Path(__file__).resolve().parents[1]
EMITTERS = sorted({*ROOT.glob("coursekit/**/*.py"), *ROOT.glob("solutions/*.py"), *ROOT.glob("chapters/*.py")})
READERS = sorted(path for path in ROOT.glob("coursekit/**/*.py") if path.name != "events.py")


def emitted_literals(path: Path) -> list[tuple[int, str]]:
    """(line, kind) of each ``emit("kind", ...)`` or ``recorder.record("kind", ...)`` with a literal kind."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
            continue
        called = ast.unparse(node.func)
        if isinstance(node.args[0].value, str) and (called == "emit" or called.endswith(".record")):
            found.append((node.lineno, node.args[0].value))
    return found


def test_every_emitted_kind_is_a_named_kind() -> None:
    unknown = [
        f"{path.relative_to(ROOT)}:{line}: {kind}"
        for path in EMITTERS
        for line, kind in emitted_literals(path)
        if kind not in set(Kind)
    ]
    assert not unknown, "emitted kinds that coursekit.events.Kind lacks:\n" + "\n".join(unknown)


@pytest.mark.parametrize("path", READERS, ids=lambda path: str(path.relative_to(ROOT)))
def test_coursekit_names_kinds_through_the_constants(path: Path) -> None:
    spelled = [
        f"line {node.lineno}: {node.value!r}"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in set(Kind)
    ]
    assert not spelled, f"kinds spelled as text in {path.name}, not as Kind members: {spelled}"


def test_a_kind_is_its_string() -> None:
    assert Kind.WORK_START == "work.start" and f"{Kind.QUEUE_PUT}" == "queue.put"
    assert len({kind.value for kind in Kind}) == len(Kind)
