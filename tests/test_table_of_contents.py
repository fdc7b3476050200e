"""course.toml, the table of contents: every chapter it lists has its parts, every chapter part is
listed, each entry's imports are exactly the third-party packages its chapter uses, the grader's
kernel allows a learner those and flags others, and a malformed entry is an error that names it."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from autograder.chapters import find_chapters
from autograder.inside.watch import Watch
from coursekit.table_of_contents import (
    ALWAYS_IMPORTABLE,
    ChapterEntry,
    TableOfContentsError,
    read_table_of_contents,
    table_of_contents,
)
from tools.chapter_source import chapters
from tools.readme_chapters import MarkersMissing, with_chapter_table

ROOT = Path(__file__).resolve().parents[1]
ENTRIES = table_of_contents()
PARTS = {  # what a chapter is made of, by the entry's names
    "source": "chapters/{assignment}.py",
    "notebook": "notebooks/{assignment}/{topic}.ipynb",
    "reference": "solutions/{topic}.py",
    "checks": "coursekit/chapters/{topic}/checks.py",
    "probes": "coursekit/chapters/{topic}/probes.py",
    "statement map": "tests/statement_checks/{topic}.toml",
}


def test_chapters_are_numbered_from_0_without_gaps_and_described() -> None:
    assert [entry.number for entry in ENTRIES] == list(range(len(ENTRIES)))
    assert all(entry.title and len(entry.learn) > 40 for entry in ENTRIES)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.assignment)
def test_every_listed_chapter_has_all_its_parts(entry: ChapterEntry) -> None:
    missing = [
        f"{part} ({pattern.format(assignment=entry.assignment, topic=entry.topic)})"
        for part, pattern in PARTS.items()
        if not (ROOT / pattern.format(assignment=entry.assignment, topic=entry.topic)).is_file()
    ]
    assert not missing, f"{entry.assignment} is in course.toml but lacks: {', '.join(missing)}"


def test_every_chapter_part_on_disk_is_listed() -> None:
    """A chapter source, notebook folder or reference that course.toml does not list would be
    silently left out of the build, grading and tests."""
    listed = {entry.assignment for entry in ENTRIES} | {entry.topic for entry in ENTRIES}
    on_disk = {
        *(path.stem for path in (ROOT / "chapters").glob("*.py")),
        *(path.name for path in (ROOT / "notebooks").iterdir() if path.is_dir() and not path.name.startswith(".")),
        *(path.stem for path in (ROOT / "solutions").glob("*.py") if path.stem != "__init__"),
    }
    assert sorted(on_disk - listed) == []
    assert [chapter.assignment for chapter in find_chapters()] == [entry.assignment for entry in ENTRIES]
    assert [chapter.assignment for chapter in chapters()] == [entry.assignment for entry in ENTRIES]


def third_party_imports(path: Path) -> set[str]:
    """The top-level names of the packages ``path`` imports that are neither the standard
    library nor the course's own (``solutions``, whose cells the build replaces)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"solutions", "__future__"}


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.assignment)
def test_an_entrys_imports_are_the_packages_its_chapter_uses(entry: ChapterEntry) -> None:
    used = third_party_imports(ROOT / "chapters" / f"{entry.assignment}.py") | third_party_imports(
        ROOT / "solutions" / f"{entry.topic}.py"
    )
    assert sorted(used - entry.importable) == [], "used by the chapter but not in its course.toml imports"
    assert sorted(set(entry.imports) - used) == [], "in course.toml's imports but not used by the chapter"
    assert set(ALWAYS_IMPORTABLE) <= entry.importable


def import_flags(entry: ChapterEntry, module: str) -> list[str]:
    """What the grader's watch says of a learner's ``import module`` in ``entry``'s chapter."""
    watch = Watch(-1, [], set(), set(), entry.importable)
    return [why for why in [watch.judge("import", (module, None, None, None, None))] if why]


def test_the_kernels_watch_allows_a_chapters_imports_and_flags_others() -> None:
    by_topic = {entry.topic: entry for entry in ENTRIES}
    retries, producer_consumer = by_topic["retries"], by_topic["producer_consumer"]
    assert import_flags(retries, "tenacity") == []
    assert import_flags(retries, "coursekit.virtual_time") == []
    assert import_flags(retries, "collections") == []
    assert import_flags(producer_consumer, "tenacity") == ["imports `tenacity`, outside the modules an exercise needs"]


GOOD_ENTRY = (
    'number = 1\ntopic = "queues"\ntitle = "Queues"\nlearn = "things"\ncovers = "a queue"\nimports = ["httpx"]\n'
)
TWO = "[[chapter]]\n" + GOOD_ENTRY + "[[chapter]]\n" + GOOD_ENTRY.replace("1", "2")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[chapter]]\n" + GOOD_ENTRY.replace('topic = "queues"\n', ""), r"entry 1: expected the fields .* topic"),
        ("[[chapter]]\n" + GOOD_ENTRY + "minutes = 30\n", r"entry 1: .*not these: minutes"),
        ("[[chapter]]\n" + GOOD_ENTRY.replace('"queues"', '"Queues!"'), r"entry 1: topic should be .*'Queues!'"),
        ("[[chapter]]\n" + GOOD_ENTRY.replace("number = 1", 'number = "1"'), r"entry 1: number should be"),
        ("[[chapter]]\n" + GOOD_ENTRY.replace('["httpx"]', '"httpx"'), r"entry 1: imports should list"),
        (TWO, r"more than one chapter has topic queues"),
        ("[[chapter]\n", r"course.toml: "),
    ],
    ids=["missing field", "unknown field", "bad topic", "number as text", "imports as text", "topic twice", "bad TOML"],
)
def test_a_malformed_table_of_contents_names_the_entry(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "course.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TableOfContentsError, match=message):
        read_table_of_contents(path)


def test_a_good_entry_reads_back() -> None:
    path = ROOT / "course.toml"
    assert read_table_of_contents(path) == ENTRIES
    assert ENTRIES[2].assignment == "ch02_worker_pools" and "anyio" in ENTRIES[2].importable


def test_the_readmes_table_of_chapters_is_the_table_of_contents() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert with_chapter_table(readme, ENTRIES) == readme, "README.md's chapters are stale: run tools/build.py --no-run"
    assert all(f"`{entry.assignment}` | {entry.covers} |" in readme for entry in ENTRIES)


def test_a_readme_without_the_markers_is_told_where_the_table_goes() -> None:
    with pytest.raises(MarkersMissing, match="chapters: written by tools/build.py"):
        with_chapter_table("# A course\n", ENTRIES)
