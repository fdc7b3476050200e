"""Which learner ids grading can carry: nbgrader finds submissions with a glob, and each id is a folder name.

:func:`id_problem` says why an id cannot be graded: it starts with a dot (nbgrader's glob
skips it; ``.`` and ``..`` name other folders), holds a glob character (``*?[]`` would
match other learners' folders) or a comma (nbgrader lists ids with commas), a control
character or white space, or is over
:data:`MAX_LENGTH` characters. Such a learner is refused up front, with that reason, never
skipped in silence.
"""

from __future__ import annotations

import unicodedata

MAX_LENGTH = 100
PATTERN_CHARACTERS = frozenset("*?[],")


def id_problem(student: str) -> str | None:
    """Why ``student`` cannot be a learner id for grading, or None when it can."""
    if not student:
        return "the learner id is empty"
    if student.startswith("."):
        return f"the learner id {student!r} starts with a dot, which nbgrader's search for submissions skips"
    if PATTERN_CHARACTERS & set(student):
        return f"the learner id {student!r} holds * ? [ ] or a comma, which nbgrader would read as a pattern or a list"
    if any(unicodedata.category(c).startswith(("C", "Z")) for c in student):
        return f"the learner id {student!r} holds white space or a control character"
    if len(student) > MAX_LENGTH:
        return f"the learner id is {len(student)} characters long, over the limit of {MAX_LENGTH}"
    return None
