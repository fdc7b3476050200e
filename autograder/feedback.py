"""Keep hidden tests out of the feedback learners receive.

Autograding puts the hidden tests back into each test cell, so by default
nbgrader's feedback HTML shows them, and a failing hidden assert is quoted in
its traceback. :class:`HideHiddenTests` (used by ``generate_feedback``, see
``nbgrader_config.py``) removes the hidden regions of test cells, and in a cell that
had one it drops every traceback or stderr line that quotes a hidden line; the error's
name and message stay. (Grading scrubs every other cell's outputs with :func:`scrub`
before they are recorded.) A hidden-test marker a learner typed into an answer is left
as text, so it cannot make feedback fail.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import ClearHiddenTests

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# IPython's traceback prefix for a source line: "----> 3 " or "      2 ".
LINE_NUMBER = re.compile(r"^\s*-*>?\s*\d+\s")


def normalized(text: str) -> str:
    """``text`` as a reader sees it: compatibility forms folded (NFKC: full-width letters, ligatures),
    invisible format characters (zero-width spaces and joiners, direction marks) and ANSI colours gone."""
    if text.isascii():  # most output: nothing to fold, no format character
        return ANSI.sub("", text)
    folded = unicodedata.normalize("NFKC", ANSI.sub("", text))
    return "".join(character for character in folded if unicodedata.category(character) != "Cf")


def quotes(line: str, hidden: set[str]) -> bool:
    """Does an output line show one of the ``hidden`` source lines (both already :func:`normalized`)?"""
    text = normalized(line).strip()
    code = LINE_NUMBER.sub("", text).strip()
    return code in hidden or text in hidden or any(len(h) >= 10 and h in text for h in hidden)


def scrub(text: str, hidden: set[str]) -> str:
    """``text`` without the lines that quote a hidden line, compared as a reader sees them (:func:`normalized`)."""
    seen = {normalized(line) for line in hidden}
    return "".join(line for line in text.splitlines(keepends=True) if not quotes(line, seen))


class HideHiddenTests(ClearHiddenTests):  # type: ignore[misc]  # nbgrader ships no types: its classes are Any
    """ClearHiddenTests, plus: no output of the cell may quote a hidden test line."""

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict[str, Any], cell_index: int
    ) -> tuple[NotebookNode, dict[str, Any]]:
        if not cell.metadata.get("nbgrader", {}).get("grade"):
            return cell, resources  # hidden tests live in test cells only; a learner's marker is just text
        before = cell.source.splitlines() if cell.cell_type == "code" else []
        if not self._remove_hidden_test_region(cell):
            return cell, resources
        kept = set(cell.source.splitlines())
        hidden = {line.strip() for line in before if line not in kept and line.strip()}
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [scrub(entry, hidden) for entry in output.get("traceback", [])]
            elif output.get("output_type") == "stream":
                output["text"] = scrub(output.get("text", ""), hidden)
        return cell, resources
