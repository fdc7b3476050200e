"""Run-time tamper watch, installed in the kernel before any learner code runs.

Two signals, both written as lines to a pipe whose other end the runner (a separate
process) reads, so code in the kernel can add lines but not take any back:

- an audit hook (:func:`sys.addaudithook`; it cannot be removed) records events whose
  nearest Python caller is code from a learner cell (and a wrapper of ``__import__``
  the imports of modules already loaded): imports outside the allow-list,
  ``exec``/``compile``, ``__code__`` reads and writes, frame walking, tracing,
  ``gc`` referrer searches, ``ctypes``, signals and subprocesses;
- after every cell, IPython's ``post_run_cell`` compares what the course set up with
  what is there now: names bound by locked cells, attributes of watched modules,
  ``sys.modules`` entries, the event loop's attributes, IPython's input and AST
  transformers, and threads left running. It then writes ``done CELL_ID``; the runner
  flags a run whose heartbeats stop (the watch was unregistered or broken).

Evidence lines are ``flag CELL_ID: WHAT``. A flag is for an instructor to review: it
does not change the score.
"""

from __future__ import annotations

import asyncio
import builtins
import functools
import linecache
import os
import sys
import sysconfig
import threading
from collections.abc import Iterable, Mapping, Sequence
from types import FrameType, ModuleType
from typing import Any

WATCHED_PACKAGES = frozenset(
    {"asyncio", "time", "builtins", "coursekit", "looptime", "random", "functools", "contextvars", "threading"}
)
FORBIDDEN_IMPORTS = frozenset(
    {"ctypes", "_ctypes", "runpy", "code", "codeop", "pdb", "bdb", "solutions", "autograder", "importlib", "gc"}
)
MACHINERY = ("importlib", "runpy.py", "/IPython/", "<frozen")
LIBRARY = (*MACHINERY, sysconfig.get_paths()["stdlib"])
# Module attributes the kernel itself changes: builtins._ (last result), input (stdin
# forwarding per request), warnings' per-module registry.
FORGOTTEN = "# (a course cell: its source is not kept)"
KERNEL_MANAGED = frozenset({"_", "input", "__warningregistry__"})
FRAME_ATTRIBUTES = frozenset({"f_back", "f_globals", "f_locals", "tb_frame", "gi_frame", "cr_frame", "ag_frame"})
ALWAYS_FLAGGED = {
    "sys._getframe": "walks the call stack (sys._getframe)",
    "sys._current_frames": "reads other threads' stacks",
    "sys.settrace": "installs a trace function",
    "sys.setprofile": "installs a profile function",
    "sys.addaudithook": "adds an audit hook",
    "gc.get_referrers": "searches objects by reference (gc.get_referrers)",
    "gc.get_objects": "lists every object (gc.get_objects)",
    "gc.get_referents": "searches objects by reference (gc.get_referents)",
    "exec": "runs code with exec/eval",
    "compile": "compiles code at run time",
    "os.kill": "sends a signal to a process",
    "os.killpg": "sends a signal to a process group",
    "signal.pthread_kill": "sends a signal to a thread",
    "subprocess.Popen": "starts a subprocess",
    "os.system": "runs a shell command",
    "os.fork": "forks the kernel",
    "os.exec": "replaces the kernel process",
    "os.posix_spawn": "starts a process",
}


class Watch:
    """The kernel's watch; :func:`install` makes the one instance."""

    def __init__(
        self, fd: int, order: Sequence[str], learner_cells: set[str], course_cells: set[str], importable: frozenset[str]
    ) -> None:
        self.fd = fd
        self.importable = importable
        self.order = order
        self.count = 0
        self.learner_cells = learner_cells
        self.course_cells = course_cells
        self.learner_files: set[str] = set()
        self.current = "start-up"
        self.busy = threading.local()
        self.shell: Any = None
        self.course_names: dict[str, int] = {}
        self.modules: dict[str, dict[str, int]] | None = None
        self.module_table: dict[str, int] = {}
        self.loop_attributes: dict[str, int] = {}
        self.transformers: tuple[int, ...] = ()
        self.threads: set[int] = set()
        self.stdlib = frozenset(sys.stdlib_module_names)

    def write(self, line: str) -> None:
        data = (line.replace("\n", " ")[:500] + "\n").encode("utf-8", "replace")
        try:
            os.write(self.fd, data)
        except OSError:
            pass  # the runner flags the missing heartbeat

    def flag(self, what: str) -> None:
        self.write(f"flag {self.current}: {what}")

    # --- the audit hook -------------------------------------------------------------
    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if getattr(self.busy, "on", False) or not self.learner_files:
            return
        self.busy.on = True
        try:
            why = self.judge(event, args)
            through = () if event in ("exec", "compile") else MACHINERY if event == "import" else LIBRARY
            if why and self.caused_by_learner(sys._getframe(1), through):
                self.flag(why)
        finally:
            self.busy.on = False

    def judge(self, event: str, args: tuple[Any, ...]) -> str | None:
        if event == "import":
            top = str(args[0]).split(".")[0]
            if top in FORBIDDEN_IMPORTS or (top not in self.stdlib and top not in self.importable):
                return forbidden_import(str(args[0]))
            return None
        if event == "object.__setattr__" or event == "object.__delattr__":
            return f"changes `{getattr(args[0], '__qualname__', type(args[0]).__name__)}.{args[1]}` at run time"
        if event == "object.__getattr__":
            if args[1] in FRAME_ATTRIBUTES:
                return f"reads `{args[1]}` (walks frames)"
            if args[1] == "__code__" and not self.defined_by_learner(args[0]):
                return f"reads the code of `{getattr(args[0], '__qualname__', '?')}`"
            return None
        if event.startswith("ctypes."):
            return f"uses ctypes ({event})"
        return ALWAYS_FLAGGED.get(event)

    def defined_by_learner(self, function: object) -> bool:
        code = getattr(function, "__code__", None)
        return code is not None and code.co_filename in self.learner_files

    def caused_by_learner(self, frame: FrameType | None, through: tuple[str, ...]) -> bool:
        """Is ``frame`` (the event's Python caller) learner code, or called by learner code
        through frames whose file names contain one of ``through``?

        exec/compile count only direct calls (the standard library uses them, e.g. for
        namedtuple); imports count through the import machinery (importlib, runpy,
        IPython's magics); other events through the standard library too (subprocess)."""
        while frame is not None:
            if frame.f_code.co_filename in self.learner_files:
                return True
            if not any(part in frame.f_code.co_filename for part in through):
                return False
            frame = frame.f_back
        return False

    # --- IPython's cell events ----------------------------------------------------
    def pre_run_cell(self, info: Any) -> None:
        cell_id = self.order[self.count] if self.count < len(self.order) else f"unexpected-cell-{self.count}"
        self.count += 1
        self.check()
        self.current = cell_id
        if cell_id in self.learner_cells:
            if self.modules is None:
                self.baseline()
            self.learner_files.add(self.shell.compile.get_code_name(info.raw_cell, info.raw_cell, 0))

    def post_run_cell(self, result: Any) -> None:
        if self.current in self.course_cells:
            self.course_names.update(
                (name, id(self.shell.user_ns[name])) for name in bound_names(result.info.raw_cell, self.shell.user_ns)
            )
            forget_source(self.shell, result.info.raw_cell)
        self.check()
        self.write(f"done {self.current}")

    def baseline(self) -> None:
        """What learner code must leave alone, as it is before the first learner cell."""
        self.modules = {name: identities(vars(module)) for name, module in self.watched_modules()}
        self.module_table = identities(sys.modules)
        self.loop_attributes = identities(self.loop_dict())
        self.transformers = self.transformer_ids()
        self.threads = {thread.ident or 0 for thread in threading.enumerate()}

    def watched_modules(self) -> Iterable[tuple[str, ModuleType]]:
        for name, module in list(sys.modules.items()):
            if name.split(".")[0] in WATCHED_PACKAGES and module is not None:
                yield name, module

    def loop_dict(self) -> dict[str, Any]:
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            return {}
        return {k: v for k, v in vars(loop).items() if callable(v)}

    def transformer_ids(self) -> tuple[int, ...]:
        shell = self.shell
        return (
            *(id(t) for t in shell.input_transformers_cleanup),
            *(id(t) for t in shell.input_transformers_post),
            *(id(t) for t in shell.ast_transformers),
            -1,
            *(id(c) for callbacks in shell.events.callbacks.values() for c in callbacks),
        )

    def check(self) -> None:
        """Flag every change to what the course set up (see the module's docstring)."""
        if self.modules is None:
            return
        for name, was in self.course_names.items():
            if id(self.shell.user_ns.get(name)) != was:
                self.flag(f"rebinds `{name}`, which the course's cells define")
                self.course_names[name] = id(self.shell.user_ns.get(name))
        for name, module in self.watched_modules():
            before = self.modules.get(name)
            now = identities(vars(module))
            if before is not None and now != before:
                changed = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
                changed = [
                    key
                    for key in changed
                    if key not in KERNEL_MANAGED and not binds_submodule(name, module, key, before)
                ]
                if changed:
                    self.flag(f"changes `{name}.{', '.join(changed[:5])}`")
            self.modules[name] = now
        table = identities(sys.modules)
        replaced = sorted(k for k, v in self.module_table.items() if table.get(k, v) != v or k not in table)
        if replaced:
            self.flag(f"replaces or removes modules in sys.modules: {', '.join(replaced[:5])}")
        self.module_table = table
        loop_now = identities(self.loop_dict())
        if loop_now != self.loop_attributes:
            self.flag(f"changes the event loop's methods: {', '.join(sorted(loop_now.keys() ^ self.loop_attributes))}")
            self.loop_attributes = loop_now
        transformers = self.transformer_ids()
        if transformers != self.transformers:
            self.flag("changes IPython's input transformers, AST transformers or cell events")
            self.transformers = transformers
        left = sorted(
            thread.name
            for thread in threading.enumerate()
            if (thread.ident or 0) not in self.threads and self.started_by_learner(thread)
        )
        if left:
            self.flag(f"leaves threads running after the cell: {', '.join(left[:5])}")
        self.threads |= {thread.ident or 0 for thread in threading.enumerate()}

    def started_by_learner(self, thread: threading.Thread) -> bool:
        """Does the thread run learner code (its target, unwrapped from ``functools.partial``
        and bound methods, or its class's ``run``)?"""
        target = getattr(thread, "_target", None)
        while isinstance(target, functools.partial):
            target = target.func
        code = getattr(getattr(target, "__func__", target), "__code__", None)
        run = getattr(type(thread).run, "__code__", None)
        return any(c is not None and c.co_filename in self.learner_files for c in (code, run))


def forget_source(shell: Any, source: str) -> None:
    """Keep a course cell's source (its hidden tests) out of the kernel's reach once it has run:
    IPython's input history (``In``, ``_ih``, ``_i``, ``_iN``), the line cache of tracebacks,
    and the last error's traceback (its frames hold the cell's code). The history database is
    off in this kernel (:mod:`autograder.inside.kernel`)."""
    history = shell.history_manager
    for entries in (history.input_hist_raw, history.input_hist_parsed):
        entries[:] = [FORGOTTEN if entry == source or source.strip() in entry else entry for entry in entries]
    for name, value in list(shell.user_ns.items()):
        if name.startswith("_i") and isinstance(value, str) and value and value.strip() in source:
            shell.user_ns[name] = FORGOTTEN
    for name, entry in list(linecache.cache.items()):
        if len(entry) > 2 and "".join(entry[2] or ()).strip() == source.strip():
            del linecache.cache[name]
    for attribute in ("last_type", "last_value", "last_traceback", "last_exc"):
        if hasattr(sys, attribute):
            setattr(sys, attribute, None)


def forbidden_import(name: str) -> str:
    return f"imports `{name}`, outside the modules an exercise needs"


def guard_imports(watch: Watch) -> None:
    """Wrap ``builtins.__import__``: the audit hook hears only first imports, and most forbidden
    modules are already loaded by the kernel. (Restoring the original is itself flagged: the
    watch compares ``builtins`` after every cell.)"""
    original = builtins.__import__

    def guarded(name: str, *args: Any, **kwargs: Any) -> Any:
        level = args[3] if len(args) > 3 else kwargs.get("level", 0)
        if not level and name.split(".")[0] in FORBIDDEN_IMPORTS and watch.learner_files:
            if watch.caused_by_learner(sys._getframe(1), MACHINERY):
                watch.flag(forbidden_import(name))
        return original(name, *args, **kwargs)

    builtins.__import__ = guarded


def binds_submodule(name: str, module: ModuleType, key: str, before: dict[str, int]) -> bool:
    """Is ``module.key`` new, and the submodule ``name.key`` itself? Importing a submodule binds it
    in its package (``import coursekit.traces`` sets ``coursekit.traces``): that changes nothing
    the course set up."""
    value = vars(module).get(key)
    return key not in before and value is not None and sys.modules.get(f"{name}.{key}") is value


def identities(mapping: Mapping[str, object]) -> dict[str, int]:
    return {str(key): id(value) for key, value in list(mapping.items())}


def bound_names(source: str, namespace: dict[str, Any]) -> list[str]:
    """The top-level names a course cell binds (imports, defs, assignments) that exist now.

    The cell is read as IPython runs it: its magics (``%matplotlib inline``) become Python first,
    through a transformer of IPython's own that the learner's code cannot have changed."""
    import ast

    from IPython.core.inputtransformer2 import TransformerManager

    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return []
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {sub.id for target in targets for sub in ast.walk(target) if isinstance(sub, ast.Name)}
    return sorted(name for name in names if name in namespace)


def install(
    fd: int, order: Sequence[str], learner_cells: set[str], course_cells: set[str], importable: frozenset[str]
) -> Watch:
    """Start the audit hook now; :func:`attach` it to the shell once IPython exists.

    ``order``: the ids of the cells the runner will execute, in order (nbclient does not
    send cell ids, so the watch counts cells). ``importable``: the third-party packages the
    chapter's entry in the table of contents allows; a learner's import of another flags."""
    watch = Watch(fd, order, learner_cells, course_cells, importable)
    sys.addaudithook(watch.audit)
    guard_imports(watch)
    return watch


def attach(watch: Watch, shell: Any) -> None:
    watch.shell = shell
    shell.events.register("pre_run_cell", watch.pre_run_cell)
    shell.events.register("post_run_cell", watch.post_run_cell)
