"""The learner's part of a reference object, marked with nbgrader's solution regions.

A solution cell of a chapter shows reference objects (functions or classes from
``solutions/<topic>.py``) with the parts the learner writes between
``### BEGIN SOLUTION`` and ``### END SOLUTION``; nbgrader replaces each region with a
stub in the release.

- A **function** without markers: its whole body after the docstring is the region.
- A **class**, or a function that keeps part of its body visible: the reference module
  carries the markers itself (they are comments, so the module still runs), e.g. inside
  the methods the learner writes, leaving the constructor and docstrings visible.
"""

from __future__ import annotations

import ast
import inspect
from types import FunctionType

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"


class NoSolutionRegion(ValueError):
    """A reference object that does not say which part the learner writes."""


def solution_source(obj: FunctionType | type) -> str:
    """``obj``'s exact source (a reference function or class), with its solution region(s) marked."""
    source = inspect.getsource(obj).rstrip("\n")
    if BEGIN in source:
        return source
    node = ast.parse(source).body[0]
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not ast.get_docstring(node):
        raise NoSolutionRegion(
            f"{obj.__qualname__} needs {BEGIN} / {END} comments around the part the learner writes "
            "(only a function with a docstring gets its whole body marked automatically)"
        )
    after_docstring = node.body[0].end_lineno
    assert after_docstring is not None
    lines = source.split("\n")
    indent = " " * (node.body[0].col_offset)
    return "\n".join([*lines[:after_docstring], indent + BEGIN, *lines[after_docstring:], indent + END])


def without_markers(source: str) -> str:
    """``source`` with its solution-region marker lines removed."""
    return "\n".join(line for line in source.split("\n") if line.strip() not in (BEGIN, END))
