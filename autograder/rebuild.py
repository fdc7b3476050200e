"""Only the learner's answers run: the graded notebook is rebuilt from the release.

Every cell comes from the kit's template (the release, with the gradebook's test and
locked cells) except the solution cells, whose source is taken from the submission's
cell with the same grade id (an answer over :data:`ANSWER_MAX_CHARACTERS` is graded as
released, and the report says why). The learner's extra cells, edited metadata, points,
kernelspec and test cells are never used.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import nbformat

from autograder.kit import GradingKit

# An answer cell's largest source: the references' largest is about 4,000 characters; a megabyte
# answer cost the grader gigabytes and a 70 MB feedback page.
ANSWER_MAX_CHARACTERS = 100_000


@dataclass(frozen=True)
class Rebuilt:
    notebook: nbformat.NotebookNode
    learner_cells: tuple[str, ...]  # cell ids of the solution cells, in the rebuilt notebook
    notes: tuple[str, ...]  # what was missing or repaired, for the report


def rebuild(kit: GradingKit, submission: nbformat.NotebookNode) -> Rebuilt:
    """The notebook to run: ``kit.template`` with the submission's answers in its solution cells."""
    answers: dict[str, str] = {}
    for cell in submission.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in kit.solution_ids and grade_id not in answers and isinstance(cell.get("source"), str):
            answers[grade_id] = cell.source
    notebook: nbformat.NotebookNode = nbformat.from_dict(copy.deepcopy(kit.template))
    notes, learner = [], []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("solution"):
            continue
        learner.append(cell.id)
        if meta["grade_id"] not in answers:
            notes.append(f"your notebook has no cell {meta['grade_id']}; the release's unsolved version was graded")
            continue
        source = answers[meta["grade_id"]]
        if len(source) > ANSWER_MAX_CHARACTERS:
            notes.append(
                f"cell {meta['grade_id']} holds {len(source):,} characters, over the limit of "
                f"{ANSWER_MAX_CHARACTERS:,} for an answer; the release's unsolved version was graded"
            )
            continue
        clean = source.encode("utf-8", "replace").decode("utf-8")
        if clean != source:
            notes.append(f"cell {meta['grade_id']} held characters that are not valid text; they became '?'")
        cell.source = clean
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return Rebuilt(notebook, tuple(learner), tuple(notes))
