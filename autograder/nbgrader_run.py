"""Run nbgrader in a course directory: through its Python API in this process, or as a command.

:func:`nbgrader_api` gives nbgrader's Python API for a course folder (its
``nbgrader_config.py``), one user at a time in this process; :func:`require_success`
turns a failed result of it into :class:`NbgraderFailed`. :func:`nbgrader` runs
``python -m nbgrader`` in a subprocess whose working directory is the course folder
(nbgrader's own output goes to our stderr, keeping our stdout for results).
Either way nbgrader runs the ``alembic`` command to open its gradebook, so the folder
of this Python's scripts goes on PATH (the course's .venv is usually not activated).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from autograder.chapters import COURSE_DIR

if TYPE_CHECKING:
    from nbgrader.apps import NbGraderAPI

# nbgrader's apps are not made to run side by side in one process (and PATH is process-wide).
# Re-entrant: a thread already inside nbgrader_api may open it again.
_ONE_AT_A_TIME = threading.RLock()


class NbgraderFailed(RuntimeError):
    """An nbgrader command exited with an error."""


class NbgraderResult(TypedDict):
    """What a command of nbgrader's Python API (:class:`~nbgrader.apps.NbGraderAPI`) returns."""

    success: bool
    error: NotRequired[str | None]
    log: NotRequired[str]


def tools_env() -> dict[str, str]:
    """This process's environment with this Python's scripts folder first on PATH."""
    scripts = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")])}


@contextmanager
def scripts_on_path() -> Iterator[None]:
    """Within the block, this process's PATH starts with this Python's scripts folder."""
    before = os.environ.get("PATH")
    os.environ["PATH"] = tools_env()["PATH"]
    try:
        yield
    finally:
        if before is None:
            del os.environ["PATH"]
        else:
            os.environ["PATH"] = before


@contextmanager
def nbgrader_api(
    course_dir: Path = COURSE_DIR, overrides: dict[str, dict[str, Any]] | None = None
) -> Iterator[NbGraderAPI]:
    """nbgrader's Python API for ``course_dir`` (its nbgrader_config.py, then ``overrides``, e.g.
    {"Execute": {"enabled": False}}), in this process: one at a time (a process-wide lock), with this
    Python's scripts folder on PATH (nbgrader runs ``alembic``)."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    with _ONE_AT_A_TIME, scripts_on_path():
        config = PyFileConfigLoader("nbgrader_config.py", str(course_dir)).load_config()
        config.merge(Config(overrides or {}))
        yield NbGraderAPI(config=config)


def require_success(result: NbgraderResult | None, command: str, course_dir: Path) -> None:
    """Raise NbgraderFailed naming ``command`` (e.g. "nbgrader generate_assignment ch03_batching") and
    ``course_dir``, with nbgrader's log and error, unless ``result`` says it succeeded."""
    if result and result.get("success"):
        return
    details = "".join(str(result.get(key) or "") for key in ("log", "error")) if result else ""
    raise NbgraderFailed(f"`{command}` failed in {course_dir}:\n{details}")


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
