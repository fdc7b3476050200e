"""How a chapter notebook marks its exercises: each starts with a statement cell.

A statement cell is a locked nbgrader markdown cell; the exercise's title is its first
heading, without the "(N points)" at its end. A graded cell belongs to the exercise whose
statement's grade id, less its last part, begins its own (``ch10-ex2-statement`` owns
``ch10-ex2-retries``), else to the last statement before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

HEADING = re.compile(r"^#+\s*(.*?)\s*(\(\d+ points?\))?\s*$", re.M)
NO_STATEMENT = "Checks"  # the title of graded cells that come before any statement


@dataclass
class ExerciseCells:
    """One exercise: its title, and its graded cells (as notebook JSON), in notebook order."""

    title: str
    key: str
    graded: list[dict[str, Any]] = field(default_factory=list)


def exercises(cells: list[dict[str, Any]]) -> list[ExerciseCells]:
    """The exercises of a notebook's ``cells``, in order, each with its graded cells."""
    found: list[ExerciseCells] = []
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        title = statement_title(cell)
        if title is not None:
            found.append(ExerciseCells(title, str(meta.get("grade_id", "")).rsplit("-", 1)[0] + "-"))
        elif cell.get("cell_type") == "code" and meta.get("grade") and not meta.get("solution"):
            grade_id = str(meta.get("grade_id", ""))
            owners = [exercise for exercise in found if len(exercise.key) > 1 and grade_id.startswith(exercise.key)]
            if not owners and not found:
                found.append(ExerciseCells(NO_STATEMENT, ""))
            (owners or found)[-1].graded.append(cell)
    return found


def statement_title(cell: dict[str, Any]) -> str | None:
    """The exercise title (plain text: no markdown backticks) if ``cell`` (a notebook cell, as JSON) is a
    statement, else None."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if cell.get("cell_type") != "markdown" or not meta.get("locked"):
        return None
    heading = HEADING.search(cell_source(cell))
    return heading[1].replace("`", "") if heading else None


def cell_source(cell: dict[str, Any]) -> str:
    """A cell's source as one string (a notebook file may store it as a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)
