"""Find learner code that changes the course's tools instead of solving the exercise.

Checks run in the same Python process as the learner's code, so a solution cell
could replace a check (``check_consumer = lambda *a: None``), the clock
(``asyncio.sleep = ...``) or a module's attribute, and pass every test. This scan
reads the solution cells' syntax (it runs nothing) and reports each statement that
rebinds a name the locked cells define or import, assigns to an attribute of an
imported module, or reaches for the machinery that makes such changes possible
(``setattr``, ``sys.modules``, ``builtins``, ``exec``/``eval``, ``globals()``,
``importlib``, ``ctypes``, ``gc``). A notebook with findings is graded 0 with them as
the reason: a wrongly flagged learner can show the line to the instructor.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import nbformat

SUSPICIOUS_CALLS = {"setattr", "delattr", "exec", "eval", "globals", "vars", "__import__", "compile"}
SUSPICIOUS_MODULES = {
    "builtins",
    "importlib",
    "ctypes",
    "gc",
    "inspect",
    "sys",
    "coursekit",
    "autograder",
    "looptime",
    "solutions",
}


@dataclass(frozen=True)
class Finding:
    cell: str
    line: int
    code: str
    why: str

    def __str__(self) -> str:
        return f"cell {self.cell}, line {self.line}: `{self.code}` ({self.why})"


def scan(notebook: nbformat.NotebookNode) -> list[Finding]:
    """Tampering findings in the notebook's solution cells."""
    protected = _names_defined_by_locked_cells(notebook)
    imported = _imported_names(notebook)
    findings = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution"):
            continue
        try:
            tree = ast.parse(_without_magics(cell.source))
        except SyntaxError:
            continue  # a syntax error fails the learner's own cell; nothing to scan
        findings += _scan_tree(tree, cell.source, meta.get("grade_id", "?"), protected, imported)
    return findings


def _scan_tree(tree: ast.AST, source: str, cell: str, protected: set[str], imported: set[str]) -> list[Finding]:
    lines = source.splitlines()
    found: list[Finding] = []

    def flag(node: ast.AST, why: str) -> None:
        line = getattr(node, "lineno", 1)
        found.append(Finding(cell, line, lines[line - 1].strip()[:120] if line <= len(lines) else "", why))

    top_level_defs = {
        node.name
        for node in getattr(tree, "body", [])
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)) and sub.id in protected:
                        flag(node, f"rebinds `{sub.id}`, which the course's cells define")
                    elif (
                        isinstance(sub, ast.Attribute)
                        and isinstance(sub.ctx, (ast.Store, ast.Del))
                        and _root_name(sub) in protected | imported
                    ):
                        flag(node, f"changes `{ast.unparse(sub)}`, part of a module or of the course's tools")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name in protected and node.name not in top_level_defs - protected:
                flag(node, f"redefines `{node.name}`, which the course's cells define")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for module in modules:
                if module.split(".")[0] in SUSPICIOUS_MODULES:
                    flag(node, f"imports `{module}`, which an exercise never needs")
            for alias in node.names:
                if (alias.asname or alias.name).split(".")[0] in protected:
                    flag(node, f"rebinds `{alias.asname or alias.name}`, which the course's cells define")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in SUSPICIOUS_CALLS:
            flag(node, f"calls `{node.func.id}()`")
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            clash = sorted(set(node.names) & protected)
            if clash:
                flag(node, f"declares `{', '.join(clash)}` global")
    return found


def _root_name(node: ast.expr) -> str | None:
    """``a`` for ``a.b.c`` or ``a[0].b``; None when the chain does not start at a name."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _names_defined_by_locked_cells(notebook: nbformat.NotebookNode) -> set[str]:
    """Names that locked (course-owned) code cells bind: imports, defs, assignments."""
    names: set[str] = set()
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or meta.get("solution") or not meta.get("locked"):
            continue
        try:
            tree = ast.parse(_without_magics(cell.source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return names


def _imported_names(notebook: nbformat.NotebookNode) -> set[str]:
    """Every name an import statement binds, in any code cell: modules and what came from them."""
    names: set[str] = set()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(_without_magics(cell.source))
        except SyntaxError:
            continue
        names |= {
            (alias.asname or alias.name).split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in node.names
        }
    return names


def _without_magics(source: str) -> str:
    """IPython magics (``%matplotlib``, ``!ls``) are not Python: blank them out."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
