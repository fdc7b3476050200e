"""The newest revision of nbgrader's gradebook schema, read from nbgrader's migration files.

nbgrader stamps each gradebook it makes with the newest of its alembic migrations, which it
learns by running ``alembic heads`` in a subprocess: about 2 s of CPU (alembic loads every
migration) for each new course directory, grading's and every test's. The answer is fixed for
the installed nbgrader. :func:`use_migration_files` has nbgrader read it with
:func:`newest_revision` instead; the course's ``nbgrader_config.py`` calls it, so every nbgrader
process of the course does (commands, the Python API, formgrader).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

REVISION = re.compile(r"^revision\s*=\s*['\"](\w+)['\"]", re.MULTILINE)
REVISES = re.compile(r"^down_revision\s*=\s*['\"](\w+)['\"]", re.MULTILINE)


@functools.cache
def newest_revision() -> str:
    """The one revision among nbgrader's migrations (``nbgrader/alembic/versions/*.py``) that no
    other migration revises: what ``alembic heads`` prints. Raises if there is not exactly one."""
    import nbgrader

    folder = Path(nbgrader.__file__).parent / "alembic" / "versions"
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in folder.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revisions.update(REVISION.findall(text))
        revised.update(REVISES.findall(text))
    heads = revisions - revised
    if len(heads) != 1:
        raise RuntimeError(f"nbgrader's migrations in {folder} have {len(heads)} heads, not one: {sorted(heads)}")
    return heads.pop()


def use_migration_files() -> None:
    """Have nbgrader stamp the gradebooks it makes in this process with :func:`newest_revision`."""
    import nbgrader.api

    nbgrader.api.get_alembic_version = newest_revision
