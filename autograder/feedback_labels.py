"""Make nbgrader's feedback page read for a learner (a preprocessor of ``generate_feedback``).

- Each graded cell is named by its exercise (``metadata.course.label``, e.g. "Exercise 2 —
  a worker pool, check 3 of 5"), where nbgrader's page says "Test cell" for every one.
- nbgrader's automatic comment on an untouched answer ("No response.") is dropped: this
  course is graded automatically, so the page shows no empty comment blocks. A comment an
  instructor wrote stays.
- The page says which course version graded it (``resources["course"]["version"]``).
"""

from __future__ import annotations

from typing import Any

from nbconvert.preprocessors import Preprocessor
from nbformat.notebooknode import NotebookNode
from traitlets import Bool

from coursekit.statements import exercises
from coursekit.version import course_version

AUTO_COMMENT = "No response."  # nbgrader's SaveAutoGrades, on an answer left as released


class LabelForLearners(Preprocessor):
    """Exercise names for graded cells, no automatic comments, and the course's version."""

    enabled = Bool(True, help="nbconvert runs a preprocessor only when it is enabled").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        for exercise in exercises(nb.cells):
            for number, cell in enumerate(exercise.graded, 1):
                check = f", check {number} of {len(exercise.graded)}" if len(exercise.graded) > 1 else ""
                cell["metadata"]["course"] = {"label": f"{exercise.title}{check}"}
        for cell in nb.cells:
            grading = cell.metadata.get("nbgrader", {})
            if grading.get("comment") == AUTO_COMMENT:
                del grading["comment"]
        resources["course"] = {"version": course_version()}
        return nb, resources
