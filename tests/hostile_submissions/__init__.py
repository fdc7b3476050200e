"""Broken and hostile submissions, made from chapter 0's source so they stay in step with it.

Each :class:`Case` writes one submission file (bytes) and says what grading it must give:
the score (exact, or "less than full") and a fragment of the reason. The solution cells
of the source are the reference solutions, so an untouched copy scores full marks; each
case changes one thing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

SOURCE = Path(__file__).parents[2] / "notebooks" / "ch00_asyncio_in_jupyter" / "asyncio_in_jupyter.ipynb"
CHAPTER = "ch00_asyncio_in_jupyter"


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[], bytes]
    score: float | str  # a number, or "partial" (0 < score < max), or "below-full"
    reason: str  # a fragment of the report's problem or of a failed test's message


def solved() -> nbformat.NotebookNode:
    """Chapter 0 as a learner who wrote the reference solutions would hand it in."""
    notebook = nbformat.read(SOURCE, as_version=4)
    for cell in notebook.cells:
        cell.source = "\n".join(
            line for line in cell.source.splitlines() if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line
        )
        if cell.cell_type == "code":
            cell.outputs = []
    return notebook


def with_first_solution(extra: str, *, before: bool = True) -> Callable[[], bytes]:
    """A solved notebook whose first solution cell (countdown) also runs ``extra``."""

    def make() -> bytes:
        notebook = solved()
        cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution"))
        cell.source = f"{extra}\n{cell.source}" if before else f"{cell.source}\n{extra}"
        return nbformat.writes(notebook).encode()

    return make


def with_new_cell(code: str) -> Callable[[], bytes]:
    """A solved notebook with an extra learner cell after the first solution."""

    def make() -> bytes:
        notebook = solved()
        index = next(i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("solution"))
        notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(code))
        return nbformat.writes(notebook).encode()

    return make


def without_test_cells() -> bytes:
    notebook = solved()
    notebook.cells = [c for c in notebook.cells if not c.metadata.get("nbgrader", {}).get("grade")]
    return nbformat.writes(notebook).encode()


def unsolved_with_tests_replaced() -> bytes:
    notebook = nbformat.read(SOURCE, as_version=4)
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = (
                "async def countdown(n, delay):\n    return []\n"
                if "countdown" in cell.source
                else "async def fetch_all(delays):\n    return 0.0\n"
            )
        elif meta.get("grade"):
            cell.source = "pass  # the learner 'fixed' the test"
        if cell.cell_type == "code":
            cell.outputs = []
    return nbformat.writes(notebook).encode()


def old_nbformat() -> bytes:
    return nbformat.writes(nbformat.convert(solved(), 3)).encode()


def another_chapters_notebook() -> bytes:
    other = Path(__file__).parents[2] / "notebooks" / "ch01_producer_consumer" / "producer_consumer.ipynb"
    return other.read_bytes()


READ_SECRETS = """
import os
breaches = []
for target in ["../../../gradebook.db", "../../../../notebooks", "../../../release", "/root"]:
    try:
        open(target, "rb").read() if os.path.isfile(target) else os.listdir(target)
        breaches.append("read " + target)
    except OSError:
        pass
for target in ["../../../gradebook.db", "../../../nbgrader_config.py", "/work/main/autograder/nbgrader_config.py"]:
    try:
        open(target, "ab").close()
        breaches.append("opened for writing " + target)
    except OSError:
        pass
if breaches:
    raise RuntimeError(f"sandbox breached: {breaches}")
"""

NETWORK = """
import socket
try:
    socket.create_connection(("127.0.0.1", 8888), timeout=2).close()
    raise RuntimeError("sandbox breached: a network connection was opened")
except OSError as error:
    assert error.errno == 101, error  # ENETUNREACH: the kernel's network namespace is empty
"""

CATCH_INTERRUPTS = """
import time
while True:
    try:
        time.sleep(1)
    except KeyboardInterrupt:
        pass
"""

CASES = [
    Case("reference", with_new_cell("pass"), 6, ""),
    Case("infinite loop in a solution cell", with_first_solution("while True:\n    pass"), 3, "was interrupted"),
    Case("time.sleep(10**6)", with_first_solution("import time\ntime.sleep(10**6)"), 3, "was interrupted"),
    Case(
        "awaiting an event never set",
        with_first_solution("import asyncio\nawait asyncio.Event().wait()"),
        0,
        "could not be stopped",
    ),
    Case("os._exit(1)", with_new_cell("import os\nos._exit(1)"), 0, "kernel died"),
    Case("sys.exit()", with_new_cell("raise SystemExit"), 6, "raised SystemExit"),
    Case("catching KeyboardInterrupt in a loop", with_new_cell(CATCH_INTERRUPTS), 0, "could not be stopped"),
    Case("50 MB printed", with_new_cell("print('x' * 50_000_000)"), 6, ""),
    Case("memory bomb", with_first_solution("hog = bytearray(8 * 1024**3)"), 3, "MemoryError"),
    Case("test cells deleted", without_test_cells, 6, ""),
    Case("test cells edited", unsolved_with_tests_replaced, 0, "countdown"),
    Case(
        "monkeypatching a check",
        with_first_solution("check_countdown = lambda *a, **k: None", before=False),
        0,
        "rebinds `check_countdown`",
    ),
    Case(
        "monkeypatching asyncio.sleep",
        with_first_solution("import asyncio\nasyncio.sleep = None", before=False),
        0,
        "changes `asyncio.sleep`",
    ),
    Case(
        "monkeypatching the clock",
        with_first_solution("import asyncio\nasyncio.get_running_loop().time = lambda: 0", before=False),
        0,
        "changes `asyncio",
    ),
    Case("reading and writing outside its folder", with_new_cell(READ_SECRETS), 6, ""),
    Case("opening a network connection", with_new_cell(NETWORK), 6, ""),
    Case("malformed JSON", lambda: solved_bytes()[:-200], 0, "not valid JSON"),
    Case("empty file", lambda: b"", 0, "empty"),
    Case("a notebook of another chapter", another_chapters_notebook, 0, "ch01_producer_consumer"),
    Case("non-UTF-8 bytes", lambda: "ÿþ".encode("latin-1") + solved_bytes(), 0, "not UTF-8"),
    Case("an old nbformat version (v3)", old_nbformat, 6, ""),
    Case("JSON that is not a notebook", lambda: json.dumps({"hello": "world"}).encode(), 0, "not a Jupyter notebook"),
]


def solved_bytes() -> bytes:
    return nbformat.writes(solved()).encode()
