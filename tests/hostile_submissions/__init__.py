"""Broken, hostile and honestly-mistaken submissions, made from chapter 0's source so they stay in step with it.

Each :class:`Case` writes one submission file (bytes) and says what grading must give:
the score (a number, or ``ANY`` for tampering, whose score stands but is reviewed), a
fragment of the reason (``""``: the notebook ran normally, no problem), and a fragment
of the review evidence (``""``: not flagged). The solution cells of the source are the
reference solutions, so an untouched copy scores full marks; each case changes one thing.

Isolation probes (``probe(...)``) try to reach something the sandbox must hide, and
raise ``RuntimeError("sandbox breached: ...")`` if they can: their expected reason is
``""``, so a breach fails the test with the probe's own words.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

REPO = Path(__file__).parents[2]
SOURCE = REPO / "notebooks" / "ch00_asyncio_in_jupyter" / "asyncio_in_jupyter.ipynb"
CHAPTER = "ch00_asyncio_in_jupyter"
ANY = "any"
MARKER = "course-hostile-marker-4242"  # files and processes the corpus leaves behind carry it


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[], bytes]
    score: float | str  # points out of 6, or ANY
    reason: str  # a fragment of the report's problem or of a failed test's message; "" = no problem
    review: str = ""  # a fragment of the review evidence; "" = not flagged


def solved(source: Path = SOURCE) -> nbformat.NotebookNode:
    """A chapter (0 by default) as a learner who wrote the reference solutions would hand it in."""
    notebook = nbformat.read(source, as_version=4)
    for cell in notebook.cells:
        cell.source = "\n".join(
            line for line in cell.source.splitlines() if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line
        )
        if cell.cell_type == "code":
            cell.outputs = []
    return notebook


def solved_bytes() -> bytes:
    return nbformat.writes(solved()).encode()


def meta(cell: nbformat.NotebookNode) -> dict:
    return dict(cell.metadata.get("nbgrader", {}))


def edited(change: Callable[[nbformat.NotebookNode], None]) -> Callable[[], bytes]:
    """A solved notebook changed by ``change``."""

    def make() -> bytes:
        notebook = solved()
        change(notebook)
        return nbformat.writes(notebook).encode()

    return make


def in_answer(code: str, *, before: bool = False) -> Callable[[], bytes]:
    """A solved notebook whose first answer cell (countdown) also runs ``code`` (after its def)."""

    def change(notebook: nbformat.NotebookNode) -> None:
        cell = next(c for c in notebook.cells if meta(c).get("solution"))
        cell.source = f"{code}\n{cell.source}" if before else f"{cell.source}\n{code}"

    return edited(change)


def probe(code: str) -> Callable[[], bytes]:
    """An answer that also tries something the sandbox must prevent; ``breach(what)`` reports success."""
    return in_answer(f"breaches = []\ndef breach(what):\n    breaches.append(what)\n{code}\n" + BREACHED)


BREACHED = "if breaches:\n    raise RuntimeError(f'sandbox breached: {breaches}')"


def add_cell(cell: nbformat.NotebookNode) -> Callable[[], bytes]:
    def change(notebook: nbformat.NotebookNode) -> None:
        index = next(i for i, c in enumerate(notebook.cells) if meta(c).get("solution"))
        notebook.cells.insert(index + 1, cell)

    return edited(change)


def duplicate_test_cell(notebook: nbformat.NotebookNode) -> None:
    index = next(i for i, c in enumerate(notebook.cells) if meta(c).get("grade"))
    notebook.cells.insert(index + 1, nbformat.from_dict(json.loads(json.dumps(notebook.cells[index]))))
    notebook.cells[index + 1].id = "pasted-copy"


def raise_points(notebook: nbformat.NotebookNode) -> None:
    next(c for c in notebook.cells if meta(c).get("grade")).metadata.nbgrader["points"] = 100


def clear_solution_flag(notebook: nbformat.NotebookNode) -> None:
    next(c for c in notebook.cells if meta(c).get("solution")).metadata.nbgrader["solution"] = False


def other_kernelspec(notebook: nbformat.NotebookNode) -> None:
    notebook.metadata["kernelspec"] = {"name": "bash", "display_name": "Bash", "language": "bash"}


def drop_fetch_all_answer(notebook: nbformat.NotebookNode) -> None:
    notebook.cells = [c for c in notebook.cells if meta(c).get("grade_id") != "ch00-fetch-all"]


def unsolve(notebook: nbformat.NotebookNode) -> None:
    for cell in notebook.cells:
        if meta(cell).get("solution"):
            name = "countdown(n, delay)" if "countdown" in cell.source else "fetch_all(delays)"
            cell.source = f"async def {name}:\n    return []\n"


def tests_replaced(notebook: nbformat.NotebookNode) -> None:
    unsolve(notebook)
    for cell in notebook.cells:
        if meta(cell).get("grade"):
            cell.source = "pass  # the learner 'fixed' the test"


def setup_cell_replaced(notebook: nbformat.NotebookNode) -> None:
    unsolve(notebook)
    setup = next(c for c in notebook.cells if meta(c).get("grade_id") == "ch00-checks")
    setup.source = "check_countdown = check_fetch_all = lambda *args, **kwargs: None"


def without_test_cells(notebook: nbformat.NotebookNode) -> None:
    notebook.cells = [c for c in notebook.cells if not meta(c).get("grade")]


def old_nbformat() -> bytes:
    return nbformat.writes(nbformat.convert(solved(), 3)).encode()


def another_chapters_notebook() -> bytes:
    return (REPO / "notebooks" / "ch01_producer_consumer" / "producer_consumer.ipynb").read_bytes()


def source_not_text() -> bytes:
    data = json.loads(solved_bytes())
    next(c for c in data["cells"] if c["cell_type"] == "code")["source"] = 5
    return json.dumps(data).encode()


def deeply_nested() -> bytes:
    data = json.loads(solved_bytes())
    data["metadata"]["deep"] = "@"
    return json.dumps(data).encode().replace(b'"@"', b"[" * 100_000 + b"]" * 100_000)


def huge_integer() -> bytes:
    data = json.loads(solved_bytes())
    data["metadata"]["big"] = "@"
    return json.dumps(data).encode().replace(b'"@"', b"9" * 5000)


def lone_surrogate() -> bytes:
    """An answer holding an escaped lone surrogate (valid JSON, not valid text)."""
    return in_answer("# LONE")().replace(b"LONE", b"\\ud800")


EXTRA_GRADED = nbformat.v4.new_code_cell(
    "pass", metadata={"nbgrader": {"grade": True, "grade_id": "mine", "points": 100, "locked": False}}
)
BIG_DISPLAYS = """
from IPython.display import display
for _ in range(15):
    display({"text/plain": "y" * 8_000_000}, raw=True)
"""
FORKS = f"""
import os, time
for _ in range(300):
    if os.fork() == 0:
        time.sleep(60)  # {MARKER}
        os._exit(0)
"""
SLEEPER = f"import subprocess\nsubprocess.Popen(['sleep', '4242'], start_new_session=True)  # {MARKER}"
LEFT_FILES = f"for folder in ('/tmp', '/dev/shm'):\n    open(folder + '/{MARKER}', 'wb').write(b'x' * 10**7)"
KILL_SELF = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"
KILL_RUNNER = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"
IMPORT_SOLUTIONS = "try:\n    import solutions\nexcept ImportError:\n    pass"
GLOBALS_WRITE = "(lambda: 0).__globals__['check_fetch_all'] = lambda *a, **k: None"
LOOP_CLOCK = "import asyncio\nasyncio.get_event_loop().time = lambda: 0"
IMPORT_BY_NAME = "getattr(__builtins__, '__imp' + 'ort__')('ctypes')"
TRANSFORMER = "get_ipython().input_transformers_cleanup.append(lambda lines: lines)"
MODULE_SWAP = "import sys\nsys.modules['coursekit.checks'] = type(sys)('coursekit.checks')"
RUN_MAGIC = "%run -m solutions.asyncio_in_jupyter"
RUNPY = """
import runpy
try:
    runpy.run_module("solutions.asyncio_in_jupyter")
except ImportError:
    pass
"""
SWAP_CODE = """
try:
    check_countdown.__code__ = (lambda *a, **k: None).__code__
except ValueError:  # its closure does not fit; the attempt is what counts
    pass
"""

CATCH_INTERRUPTS = """
import time
while True:
    try:
        time.sleep(1)
    except KeyboardInterrupt:
        pass
"""

READ_COURSE = f"""
import os, sys, glob
for path in [{str(REPO / "notebooks")!r}, {str(REPO / "solutions")!r}, {str(REPO / "autograder")!r},
             {str(REPO / "instructor")!r}, {str(REPO / "instructor" / "gradebook.db")!r},
             {str(REPO / "instructor" / "exchange")!r},
             "/home", "/tmp/pytest-of-root", "/etc/passwd", "/etc/shadow"]:
    if os.path.exists(path):
        breach("sees " + path)
# The interpreter's folders are bound at their own paths: their parents show only them.
for folder in [{str(REPO)!r}, "/root", "/work"]:
    if os.path.isdir(folder):
        inside = set(os.listdir(folder))
        if not inside <= {{".venv", ".pyenv", {REPO.name!r}}}:
            breach(f"lists {{folder}}: {{sorted(inside)}}")
for path in glob.glob("/course/**", recursive=True):
    if any(part in path for part in ("solutions", "notebooks", "gradebook", "exchange", "submitted")):
        breach("sees " + path)
"""

WRITE_COURSE = """
import os, sys, coursekit
for folder in [os.path.dirname(coursekit.__file__), sys.prefix, "/course/release", "/usr/lib"]:
    try:
        open(os.path.join(folder, "planted.py"), "w").close()
        breach("wrote into " + folder)
    except OSError:
        pass
"""

NETWORK = """
import socket
for address in [("127.0.0.1", 8786), ("127.0.0.1", 22), ("8.8.8.8", 53), ("1.1.1.1", 443)]:
    try:
        socket.create_connection(address, timeout=2).close()
        breach(f"connected to {address}")
    except OSError:
        pass
"""

OTHER_PROCESSES = """
import os
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        command = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode(errors="replace")
    except OSError:
        continue
    if "pytest" in command or "dask" in command or "nbgrader" in command:
        breach("sees the process " + command[:80])
"""

ENVIRONMENT = """
import os
print(dict(os.environ))
for name in os.environ:
    if name.startswith(("PYTEST", "CI", "VIRTUAL_ENV", "SSH", "COURSE_")) or "TOKEN" in name or "KEY" in name:
        breach("the grader's variable " + name)
"""

CONNECTION_FILES = """
import glob, json, os
own = os.path.dirname(get_ipython().config.IPKernelApp.connection_file)
for path in glob.glob("/tmp/**/*.json", recursive=True) + glob.glob("/run/**/*.json", recursive=True):
    if os.path.dirname(path) == own:
        continue
    try:
        key = json.load(open(path)).get("key")
    except (OSError, ValueError, AttributeError):
        continue
    if key and path.count("kernel-") and not path.startswith("/tmp/jupyter"):
        breach("read a kernel connection file " + path)
"""

LEAK_HIDDEN_TESTS = """
import linecache, sys
_original = countdown
async def countdown(n, delay):
    frame = sys._getframe()
    while frame is not None:
        print("".join(linecache.getlines(frame.f_code.co_filename)))
        frame = frame.f_back
    return await _original(n, delay)
"""

THREAD_REBINDS = """
import threading, time
def later():
    time.sleep(0.2)
    get_ipython().user_ns["check_fetch_all"] = lambda *args, **kwargs: None
threading.Thread(target=later, daemon=True).start()
"""


def unsolved_with(code: str) -> Callable[[], bytes]:
    """Nothing solved (every answer returns a constant), and ``code`` runs in the first answer cell:
    whatever it does to the kernel, the hidden scenarios must still score it 0."""

    def change(notebook: nbformat.NotebookNode) -> None:
        unsolve(notebook)
        cell = next(c for c in notebook.cells if meta(c).get("solution"))
        cell.source = f"{cell.source}\n{code}"

    return edited(change)


CUSTOM_EXC = "get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)"
SHOWTRACEBACK = "get_ipython().showtraceback = lambda *args, **kwargs: None"
REWRITE_LATER_CELLS = (
    "get_ipython().input_transformers_cleanup.append("
    "lambda lines: ['pass\\n'] if any('check_' in line for line in lines) else lines)"
)
AST_EMPTIES_CELLS = """
import ast
class Empty(ast.NodeTransformer):
    def visit_Module(self, node):
        return ast.Module(body=[], type_ignores=[])
get_ipython().ast_transformers.append(Empty())
"""
FAILURE_PATH_REPLACED = "import coursekit.checks\ncoursekit.checks.Chain.fail = lambda self, *args, **kwargs: None"
TRACEBACK_FORMATTER = "get_ipython().InteractiveTB.structured_traceback = lambda *args, **kwargs: []\n" + CUSTOM_EXC
WATCH_BLINDED = f"""
for event in ("pre_run_cell", "post_run_cell"):
    get_ipython().events.callbacks[event].clear()
{CUSTOM_EXC}
"""
WATCH_FLOODED = f"""
import os, stat
decoys = "".join(f"flag =HYPERLINK(\\"x\\"): decoy {{n}}\\n" for n in range(500)).encode()
for fd in map(int, os.listdir("/proc/self/fd")):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.write(fd, decoys)
    except OSError:
        pass
{CUSTOM_EXC}
"""
FORGED_RESULT = """
import json, os, signal
forged = json.dumps({"notebook": {}, "stopped": None, "interrupted": [], "flags": [], "observations": {}})
for path in ("/proc/1/fd/1", "/proc/1/fd/2", "/proc/self/fd/1"):
    try:
        with open(path, "w") as out:
            out.write(forged)
    except OSError:
        pass
for pid in filter(str.isdigit, os.listdir("/proc")):
    if int(pid) != os.getpid():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass
"""
FORGED_OBSERVATIONS = f"""
import coursekit.probing
coursekit.probing.Probe.run = lambda self, names, scenario: {{"returned": {{"ticks": [], "ended": 0.0}}}}
{CUSTOM_EXC}
"""
DISPLAY_ID_FLOOD = """
from IPython.display import display, update_display
for _ in range(3):
    display({"text/plain": "small"}, raw=True, display_id="shared")
for _ in range(10):
    update_display({"text/plain": "z" * 8_000_000}, raw=True, display_id="shared")
"""
ONE_HUGE_MESSAGE = "from IPython.display import display\ndisplay({'text/plain': 'x' * 200_000_000}, raw=True)"
MANY_EMPTY_OUTPUTS = """
from IPython.display import display
for _ in range(3_000):
    display({"text/plain": ""}, raw=True)
"""
READ_INPUT_HISTORY = "print('HISTORY', In, _ih, {k: v for k, v in globals().items() if k.startswith('_i')})"
PARTIAL_THREAD = """
import functools, threading, time
def later(name):
    time.sleep(0.2)
    get_ipython().user_ns[name] = lambda *args, **kwargs: None
threading.Thread(target=functools.partial(later, "check_fetch_all"), daemon=True).start()
"""
INVISIBLE_LEAK = LEAK_HIDDEN_TESTS.replace('print("".join(', 'print("\\u200b".join(')
SCRIPT_OUTPUT = (
    "from IPython.display import HTML, display\n"
    "display(HTML('<script>alert(1)</script><img src=x onerror=alert(2)><a href=\"javascript:alert(3)\">x</a>'))"
)
CPU_HOG = f"""
import os
for _ in range(8):
    if os.fork() == 0:
        while True:  # {MARKER}
            pass
"""
SOCKET_FOLDER = """
import glob, os
for folder in glob.glob("/tmp/kernel-*"):
    open(os.path.join(folder, "planted"), "w").write("x")
"""

CASES = [
    # Honest mistakes and edited structure: the rebuilt notebook runs only the answers.
    Case("reference with an extra cell", add_cell(nbformat.v4.new_code_cell("pass")), 6, ""),
    Case("test cells deleted", edited(without_test_cells), 6, ""),
    Case("a test cell pasted twice", edited(duplicate_test_cell), 6, ""),
    Case("an extra graded cell worth 100 points", add_cell(EXTRA_GRADED), 6, ""),
    Case("a test's points raised to 100", edited(raise_points), 6, ""),
    Case("an answer's solution flag cleared", edited(clear_solution_flag), 6, ""),
    Case("another kernelspec", edited(other_kernelspec), 6, ""),
    Case("an old nbformat version (v3)", old_nbformat, 6, ""),
    Case("a hidden-test marker typed into an answer", in_answer("### BEGIN HIDDEN TESTS"), 6, ""),
    Case("a lone surrogate in an answer", lone_surrogate, 6, "not valid text"),
    Case("an answer cell missing", edited(drop_fetch_all_answer), 3, "has no cell ch00-fetch-all"),
    Case("test cells edited to pass, nothing solved", edited(tests_replaced), 0, "countdown"),
    Case("the locked setup cell replaced by no-op checks", edited(setup_cell_replaced), 0, "countdown"),
    # Files that are not notebooks of this chapter.
    Case("malformed JSON", lambda: solved_bytes()[:-200], 0, "not valid JSON"),
    Case("empty file", lambda: b"", 0, "empty"),
    Case("non-UTF-8 bytes", lambda: "ÿþ".encode("latin-1") + solved_bytes(), 0, "not UTF-8"),
    Case("JSON that is not a notebook", lambda: json.dumps({"hello": "world"}).encode(), 0, "not a Jupyter notebook"),
    Case("JSON nested 100,000 deep", deeply_nested, 0, "nests too deeply"),
    Case("a 5,000-digit integer", huge_integer, 0, "cannot be read as a notebook"),
    Case("a notebook of another chapter", another_chapters_notebook, 0, "ch01_producer_consumer"),
    Case("a cell source that is not text", source_not_text, 0, "malformed"),
    # Runs that misbehave: each reason says what happened.
    Case("infinite loop in an answer", in_answer("while True:\n    pass", before=True), 3, "was interrupted"),
    Case("time.sleep(10**6)", in_answer("import time\ntime.sleep(10**6)", before=True), 3, "was interrupted"),
    Case("catching KeyboardInterrupt in a loop", in_answer(CATCH_INTERRUPTS), 0, "could not be stopped"),
    Case("os._exit(1)", in_answer("import os\nos._exit(1)"), 0, "exit status 1"),
    Case("raise SystemExit", in_answer("raise SystemExit"), 6, "raised SystemExit"),
    Case("raise KeyboardInterrupt", in_answer("raise KeyboardInterrupt"), 6, "raised KeyboardInterrupt itself"),
    Case("SIGKILL to its own kernel", in_answer(KILL_SELF), 0, "killed by signal SIGKILL", "sends a signal"),
    Case("SIGKILL to its parent (the runner is out of reach)", in_answer(KILL_RUNNER), 6, "", "sends a signal"),
    Case("memory bomb", in_answer("hog = bytearray(8 * 1024**3)", before=True), 3, "MemoryError"),
    Case("50 MB printed", in_answer("print('x' * 50_000_000)"), 6, ""),
    Case("a 1 MB answer cell", in_answer("# " + "x" * 1_000_000), 3, "over the limit of 100,000 for an answer"),
    Case("fifteen 8 MB display outputs", in_answer(BIG_DISPLAYS), 6, ""),
    Case("forking 300 processes", in_answer(FORKS), ANY, "raised BlockingIOError", "forks the kernel"),
    Case("a setsid sleeper left running", in_answer(SLEEPER), 6, "", "starts a subprocess"),
    Case("files left in /tmp and /dev/shm", in_answer(LEFT_FILES), 6, ""),
    Case("a file over the size limit", in_answer("open('/tmp/big', 'wb').write(b'x' * 2**27)"), 6, "raised OSError"),
    # Probes: each must find the sandbox closed.
    Case("reading the repository, sources, gradebook, exchange", probe(READ_COURSE), 6, ""),
    Case("writing into the course's packages", probe(WRITE_COURSE), 6, ""),
    Case("opening network connections", probe(NETWORK), 6, ""),
    Case("seeing other processes", probe(OTHER_PROCESSES), 6, ""),
    Case("reading the grader's environment", probe(ENVIRONMENT), 6, ""),
    Case("reading other kernels' connection files", probe(CONNECTION_FILES), 6, ""),
    Case("importing the reference solutions", in_answer(IMPORT_SOLUTIONS), 6, "", "imports `solutions`"),
    # Tampering: the score stands, the submission is flagged with the evidence.
    Case("rebinding a check", in_answer("check_countdown = lambda *a, **k: None"), 6, "", "rebinds `check_countdown`"),
    Case("rebinding a check through __globals__", in_answer(GLOBALS_WRITE), 6, "", "rebinds `check_fetch_all`"),
    Case(
        "patching asyncio.sleep", in_answer("import asyncio\nasyncio.sleep = None"), ANY, "", "changes `asyncio.sleep`"
    ),
    Case("patching the loop's clock", in_answer(LOOP_CLOCK), 6, "", "changes the event loop"),
    Case("swapping a check's __code__", in_answer(SWAP_CODE), 6, "", "check_countdown.__code__"),
    Case("__import__ fetched from builtins by name", in_answer(IMPORT_BY_NAME), 6, "", "imports `ctypes`"),
    Case("%run -m of the solutions", in_answer(RUN_MAGIC), 6, "No module named 'solutions'", "imports `solutions`"),
    Case("runpy of the solutions", in_answer(RUNPY), 6, "", "imports `solutions`"),
    Case("an IPython input transformer", in_answer(TRANSFORMER), 6, "", "input transformers"),
    Case("a thread that rebinds a check later", in_answer(THREAD_REBINDS), 6, "", "leaves threads running"),
    Case("replacing a module in sys.modules", in_answer(MODULE_SWAP), 6, "", "sys.modules"),
    Case("a trace function", in_answer("import sys\nsys.settrace(lambda *a: None)"), ANY, "", "trace function"),
    Case("gc.get_referrers", in_answer("import gc\ngc.get_referrers(check_countdown)"), 6, "", "gc.get_referrers"),
    Case("exec of a string", in_answer("exec('x = 1')"), 6, "", "exec/eval"),
    Case("printing the hidden tests from its callers", in_answer(LEAK_HIDDEN_TESTS), 6, "", "walks the call stack"),
    Case("... with a zero-width space on every line", in_answer(INVISIBLE_LEAK), 6, "", "walks the call stack"),
    Case("reading the input history (In, _ih, _iN)", in_answer(READ_INPUT_HISTORY), 6, ""),
    Case("a thread through functools.partial", in_answer(PARTIAL_THREAD), 6, "", "leaves threads running"),
    Case("an HTML output with a script and handlers", in_answer(SCRIPT_OUTPUT), 6, ""),
    # Budgets: the notebook is graded, what is over a limit is cut.
    Case("one display updated to 8 MB in three copies, 10 times", in_answer(DISPLAY_ID_FLOOD), 6, ""),
    Case("3,000 empty outputs", in_answer(MANY_EMPTY_OUTPUTS), 6, ""),
    Case("one 200 MB message", in_answer(ONE_HUGE_MESSAGE), 6, ""),
    Case("eight CPU-bound children", in_answer(CPU_HOG), ANY, "", "forks the kernel"),
    Case("writing into the kernel's socket folder", in_answer(SOCKET_FOLDER), 0, "wrote files into the folder"),
    # Forging the verdict with nothing solved: the hidden scenarios decide, so each scores 0.
    Case("unsolved, errors swallowed by a custom exception handler", unsolved_with(CUSTOM_EXC), 0, "hidden scenario"),
    Case("unsolved, showtraceback replaced", unsolved_with(SHOWTRACEBACK), 0, "hidden scenario"),
    Case("unsolved, later test cells rewritten to pass", unsolved_with(REWRITE_LATER_CELLS), 0, "hidden", "input"),
    Case("unsolved, an AST transformer empties every cell", unsolved_with(AST_EMPTIES_CELLS), 0, "", "AST"),
    Case("unsolved, checks rebound", unsolved_with("check_countdown = check_fetch_all = print"), 0, "", "rebinds"),
    Case("unsolved, the checks' failure path replaced", unsolved_with(FAILURE_PATH_REPLACED), 0, "hidden"),
    Case("unsolved, IPython's traceback formatter replaced", unsolved_with(TRACEBACK_FORMATTER), 0, "hidden scenario"),
    Case("unsolved, the watch's events removed", unsolved_with(WATCH_BLINDED), 0, "hidden", "stopped reporting"),
    Case("unsolved, the watch flooded with decoy flags", unsolved_with(WATCH_FLOODED), 0, "hidden", "decoy"),
    Case("unsolved, a forged result, then everything killed", unsolved_with(FORGED_RESULT), 0, "", "sends a signal"),
    Case("unsolved, the probes' observations forged", unsolved_with(FORGED_OBSERVATIONS), 0, "hidden"),
]
