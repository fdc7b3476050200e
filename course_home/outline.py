"""What a chapter's notebook says of itself: its exercises and its estimated time.

A chapter's exercises are its statement cells (:mod:`coursekit.statements`), with the points of
the graded cells after them. Its estimated time is read from the
notebook too: its prose at :data:`WORDS_PER_MINUTE`, plus :data:`MINUTES_PER_EXERCISE` an
exercise, rounded up to a quarter of an hour.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from coursekit.statements import cell_source, exercises

WORDS_PER_MINUTE = 150
MINUTES_PER_EXERCISE = 20


@dataclass(frozen=True)
class Exercise:
    title: str
    points: float


@dataclass(frozen=True)
class NotebookOutline:
    """What a chapter notebook holds: its exercises and its estimated time in minutes."""

    exercises: tuple[Exercise, ...]
    minutes: int


def outline(notebook: Path) -> NotebookOutline:
    """The exercises and estimated time of the notebook at ``notebook``."""
    cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    words = sum(len(re.findall(r"\w+", cell_source(cell))) for cell in cells if cell.get("cell_type") == "markdown")
    found = tuple(
        Exercise(exercise.title, sum(float(cell["metadata"]["nbgrader"].get("points", 0)) for cell in exercise.graded))
        for exercise in exercises(cells)
    )
    minutes = words / WORDS_PER_MINUTE + MINUTES_PER_EXERCISE * len(found)
    return NotebookOutline(found, 15 * math.ceil(minutes / 15))
