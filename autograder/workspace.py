"""The learner's workspace: one folder per chapter holding its released notebooks.

It is also nbgrader's assignment folder for the learner (``nbgrader_config.py``
in it points JupyterLab's Assignments tab at the course's exchange; see
:mod:`autograder.exchange`). ``$ASYNCIO_COURSE_WORKSPACE`` puts it elsewhere
than ``workspace/`` (e.g. for a test).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from autograder.chapters import COURSE_DIR, WORKSPACE_DIR, Chapter
from autograder.exchange import write_learner_config
from autograder.release import ensure_released, release_dir

WORKSPACE_ENV = "ASYNCIO_COURSE_WORKSPACE"


def workspace_dir() -> Path:
    """The learner's workspace: ``$ASYNCIO_COURSE_WORKSPACE``, else the repository's ``workspace/``."""
    configured = os.environ.get(WORKSPACE_ENV)
    return Path(configured).resolve() if configured else WORKSPACE_DIR


def ensure_workspace(chapters: list[Chapter], workspace: Path = WORKSPACE_DIR, course_dir: Path = COURSE_DIR) -> Path:
    """Copy every released file the learner does not have yet into ``workspace/<assignment>/``.

    Releases missing or older than their source are generated first. A file
    already in the workspace is never overwritten: it is the learner's work.
    The workspace's ``nbgrader_config.py`` (the exchange, for the Assignments tab)
    is written too."""
    ensure_released(chapters, course_dir)
    workspace.mkdir(parents=True, exist_ok=True)
    for chapter in chapters:
        released = release_dir(chapter, course_dir)
        for source in sorted(path for path in released.rglob("*") if path.is_file()):
            target = workspace / chapter.assignment / source.relative_to(released)
            if target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            print(f"Added {target.relative_to(workspace)}", file=sys.stderr)
    write_learner_config(workspace, course_dir)
    return workspace.resolve()
