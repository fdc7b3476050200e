"""Adding a chapter works as the README says: ``tools/new_chapter.py`` makes a throwaway chapter 11
from the template in a copy of the repository, the build builds it, and the chapter's own tests,
nbval, and grading in the sandbox all take it, with nothing listed anywhere else."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools.new_chapter import NewChapterError, new_chapter

ROOT = Path(__file__).resolve().parent.parent
TOPIC = "throwaway"
ASSIGNMENT = "ch11_throwaway"
CHAPTER_TESTS = [  # the tests that find a chapter from course.toml, each narrowed to the new one
    "tests/test_table_of_contents.py",
    "tests/test_notebooks_built.py",
    "tests/test_solutions_in_sync.py",
    "tests/test_statement_checks.py",
    "tests/test_wrong_implementations.py",
    "tests/test_release_placeholders.py",
    "tests/test_probes.py",
    f"tests/test_{TOPIC}.py",
    f"notebooks/{ASSIGNMENT}",
]
GRADE_REFERENCE = """
import nbformat
from pathlib import Path
from autograder.grading import grade_submission
from autograder.sandbox import DEFAULT_LIMITS
from tests.course_copy import released_course
from tests.test_nbgrader_roundtrip import fill_in, grade_id, is_solution

course, kit = released_course(Path("graded"), Path("notebooks/{assignment}"))
source = nbformat.read(next(Path("notebooks/{assignment}").glob("*.ipynb")), as_version=4)
release = nbformat.read(course / "release" / "{assignment}" / kit.notebook_name, as_version=4)
every = {{grade_id(cell) for cell in source.cells if is_solution(cell)}}
for student, answered in (("reference", every), ("untouched", set())):
    notebook = nbformat.writes(fill_in(release, source, answered)).encode()
    report = grade_submission(kit, f"{{student}}/{{kit.notebook_name}}", notebook, DEFAULT_LIMITS).report
    print(student, report.score, report.max_score)
"""


def run(command: list[str], cwd: Path) -> str:
    """``command`` in ``cwd`` with the copy first on the import path; its output (fails with it)."""
    env = {**os.environ, "PYTHONPATH": str(cwd), "CI": "true"}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def course_with_chapter_11(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository's tracked files with the template chapter added and built."""
    copy = tmp_path_factory.mktemp("repository")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    run([sys.executable, "tools/new_chapter.py", TOPIC, "A throwaway chapter"], copy)
    run([sys.executable, "tools/build.py", "ch11"], copy)
    return copy


@pytest.mark.slow
def test_the_new_chapter_passes_its_chapter_tests_and_lint(course_with_chapter_11: Path) -> None:
    copy = course_with_chapter_11
    assert f"| 11 | `{ASSIGNMENT}` | A throwaway chapter: `wait_all`" in (copy / "README.md").read_text()
    output = run([sys.executable, "-m", "pytest", "-q", *CHAPTER_TESTS, "-k", f"{TOPIC} or {ASSIGNMENT}"], copy)
    assert " passed" in output and "deselected" in output, output[-2000:]
    new_files = ["chapters", "solutions", f"coursekit/chapters/{TOPIC}", f"tests/test_{TOPIC}.py"]
    run([sys.executable, "-m", "ruff", "check", *new_files], copy)
    run([sys.executable, "-m", "ruff", "format", "--check", *new_files], copy)


@pytest.mark.slow
def test_the_new_chapter_is_graded_in_the_sandbox(course_with_chapter_11: Path) -> None:
    output = run([sys.executable, "-c", GRADE_REFERENCE.format(assignment=ASSIGNMENT)], course_with_chapter_11)
    assert "reference 3.0 3.0" in output and "untouched 0.0 3.0" in output, output


def test_a_chapter_that_exists_or_a_bad_topic_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    shutil.copy2(ROOT / "course.toml", tmp_path / "course.toml")
    for topic, reason in (("retries", "already has"), ("Not-A-Package", "lower-case identifier")):
        with pytest.raises(NewChapterError, match=reason):
            new_chapter(topic, "Title", "learn", root=tmp_path)
    with pytest.raises(NewChapterError, match="as one plain line"):
        new_chapter("bulkheads", 'A "quoted" title', "learn", root=tmp_path)
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "bulkheads.py").write_text("# someone's work\n")
    with pytest.raises(NewChapterError, match="solutions/bulkheads.py"):
        new_chapter("bulkheads", "Bulkheads", "learn", root=tmp_path)
    assert sorted(path.name for path in tmp_path.rglob("*")) == ["bulkheads.py", "course.toml", "solutions"]
    assert (tmp_path / "course.toml").read_text() == (ROOT / "course.toml").read_text()
