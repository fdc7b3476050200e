"""Run nbgrader commands in a course directory.

Each command runs ``python -m nbgrader`` in a subprocess whose working directory
is the course directory, so nbgrader reads that folder's ``nbgrader_config.py``.
nbgrader's own output goes to our stderr, keeping our stdout for results.
nbgrader runs the ``alembic`` command to open its gradebook, so the folder of
this Python's scripts goes on PATH (the course's .venv is usually not activated).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from autograder.chapters import COURSE_DIR


class NbgraderFailed(RuntimeError):
    """An nbgrader command exited with an error."""


def tools_env() -> dict[str, str]:
    """This process's environment with this Python's scripts folder first on PATH."""
    scripts = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")])}


@contextmanager
def scripts_on_path() -> Iterator[None]:
    """Within the block, this process's PATH starts with this Python's scripts folder (for
    nbgrader's API used in this process: a new gradebook runs ``alembic``)."""
    before = os.environ.get("PATH")
    os.environ["PATH"] = tools_env()["PATH"]
    try:
        yield
    finally:
        if before is None:
            del os.environ["PATH"]
        else:
            os.environ["PATH"] = before


def nbgrader(*args: str, course_dir: Path = COURSE_DIR) -> None:
    """Run ``nbgrader ARGS...`` in ``course_dir``; raise NbgraderFailed if it fails."""
    command = [sys.executable, "-m", "nbgrader", *args]
    result = subprocess.run(command, cwd=course_dir, env=tools_env(), stdout=sys.stderr, stderr=sys.stderr)
    if result.returncode != 0:
        raise NbgraderFailed(f"`nbgrader {' '.join(args)}` failed (exit {result.returncode}) in {course_dir}")


def generate_assignment(assignment: str, course_dir: Path = COURSE_DIR) -> Path:
    """Build the student version of ``assignment``; return its release folder."""
    nbgrader("generate_assignment", assignment, "--force", course_dir=course_dir)
    return course_dir / "release" / assignment


def autograde(assignment: str, student: str | None = None, course_dir: Path = COURSE_DIR) -> None:
    """Autograde ``submitted/<student>/<assignment>`` (every student's when ``student`` is None)."""
    who = ["--student", student] if student is not None else []
    nbgrader("autograde", assignment, *who, "--force", course_dir=course_dir)


def generate_feedback(assignment: str, student: str | None = None, course_dir: Path = COURSE_DIR) -> None:
    """Write HTML feedback for autograded submissions into ``feedback/``."""
    who = ["--student", student] if student is not None else []
    nbgrader("generate_feedback", assignment, *who, "--force", course_dir=course_dir)


def validate(notebook: Path, course_dir: Path = COURSE_DIR, invert: bool = False) -> dict:
    """Run nbgrader's validator on ``notebook`` in this process; return its results.

    ``{}`` means success: every test cell passed, or with ``invert`` every one failed.
    Otherwise the keys are nbgrader's: ``failed``, ``passed`` (with ``invert``),
    ``changed`` or ``type_changed``, each a list of cells."""
    from nbgrader.validator import Validator
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", str(course_dir)).load_config()
    config.Validator.invert = invert
    return Validator(config=config).validate(str(notebook))
