"""A new gradebook is stamped as nbgrader stamps it, without nbgrader's ``alembic heads`` subprocess
(autograder/gradebook_revision.py, called by the course's nbgrader_config.py)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.gradebook_revision import newest_revision
from autograder.nbgrader_run import nbgrader_api, tools_env


def test_the_newest_revision_is_what_alembic_heads_prints() -> None:
    """nbgrader's own way, in a process where the course's configuration was never loaded."""
    asked = "from nbgrader.api import get_alembic_version; print(get_alembic_version())"
    alembic = subprocess.run([sys.executable, "-c", asked], capture_output=True, text=True, env=tools_env(), check=True)
    assert newest_revision() == alembic.stdout.strip()


def test_a_course_directory_gets_a_gradebook_stamped_so_with_no_alembic_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    course = tmp_path / "course"
    course.mkdir()
    config = Path(__file__).resolve().parent.parent / "instructor" / "nbgrader_config.py"
    (course / "nbgrader_config.py").write_text(config.read_text(encoding="utf-8"), encoding="utf-8")

    def no_alembic(*args: object, **kwargs: object) -> bytes:
        raise AssertionError(f"nbgrader ran a command: {args}")

    monkeypatch.setattr("nbgrader.api.sp.check_output", no_alembic)
    with nbgrader_api(course) as api:
        api.gradebook.close()  # opening it makes gradebook.db
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(newest_revision(),)]
