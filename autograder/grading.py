"""Grade one submission: rebuild it from the release, run it in its own sandbox, score it.

:func:`grade_submission` is the unit of work a Dask worker runs (plain data in, plain
data out). It never raises: an unreadable file, a notebook of another chapter, a kernel
that dies, a run past the time limit, even a bug of ours, each give a
:class:`GradeReport` scoring 0 with the reason. Tamper evidence from the run marks the
report *for review*; the computed score stays.
"""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from nbgrader.utils import determine_grade

import autograder.inside
import coursekit
from autograder.feedback import scrub
from autograder.hidden_scenarios import probe_cells, verdict
from autograder.kit import GradingKit
from autograder.rebuild import rebuild
from autograder.report import NOT_GRADED, UNKNOWN_VERSION, Graded, GradeReport, TestResult, fail_tests, zero_report
from autograder.sandbox import (
    SANDBOX_ROOT,
    Limits,
    SandboxUnavailable,
    kernel_sandbox,
    run_capped,
    scratch_folder,
    sweep_scratch,
)
from autograder.submission import NotGradable, Submission, find_chapter, parse_submission
from coursekit.check_my_work import GRADING_ENV

if TYPE_CHECKING:
    from autograder.runner import RunnerJob, RunnerOutcome, Stopped

HIDDEN_SCENARIO = "HiddenScenarioFailed"  # the error given to test cells whose hidden scenarios disagree
# A course version as a released notebook carries it (PEP 440-like, at most about 60 characters):
# nothing else from the learner's notebook reaches grades.csv's version columns.
VERSION = re.compile(r"[0-9]{1,9}(\.[0-9]{1,9}){0,3}([.+-]?[A-Za-z0-9]{1,12}){0,3}")
RUNNER = [sys.executable, "-m", "autograder.runner"]
UNSAFE_NOTE = "graded with --unsafe: no sandbox (the code ran with the grader's rights)"


def grade_submission(kit: GradingKit, name: str, data: bytes, limits: Limits, unsafe: bool = False) -> Graded:
    """Grade the notebook file ``data`` (``name`` is for messages) for ``kit``'s chapter."""
    return grade_parsed(kit, parse_submission(Path(name), data), limits, unsafe)


def grade_parsed(kit: GradingKit, submission: Submission, limits: Limits, unsafe: bool = False) -> Graded:
    """Grade a submission already read (:func:`autograder.submission.parse_submission`) for ``kit``'s
    chapter. Raises only :class:`SandboxUnavailable`; anything else is this learner's 0 with the reason."""
    try:
        if submission.notebook is None:
            return Graded(zero_report(kit, submission.problem or "unreadable"), None)
        graded = _grade_notebook(kit, str(submission.path), submission.notebook, limits, unsafe)
        graded.report.released_by = released_version(submission.notebook)
        return graded
    except SandboxUnavailable:
        raise
    except Exception as error:  # a bug of ours must cost this learner a regrade, not the batch
        where = traceback.format_exception(error)[-2].strip().splitlines()[0]
        return Graded(
            zero_report(kit, f"the grader failed on this notebook ({type(error).__name__}: {error}; {where})"), None
        )


def _grade_notebook(
    kit: GradingKit, name: str, notebook: nbformat.NotebookNode, limits: Limits, unsafe: bool
) -> Graded:
    mismatch = chapter_mismatch(kit, notebook)
    if mismatch:
        return Graded(zero_report(kit, mismatch), None)
    rebuilt = rebuild(kit, notebook)
    graded_cells = {
        cell.metadata.nbgrader["grade_id"]: cell.id
        for cell in nbformat.from_dict(kit.template).cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")
    }
    font_list, probes = matplotlib_font_list(), probe_cells(kit.hidden, graded_cells)
    kernel = [sys.executable, "-m", "autograder.inside.kernel", "-f", "{connection_file}"]
    sweep_scratch()
    with scratch_folder("release-view-") as view:
        for relative, content in kit.release_files:
            (Path(view) / relative).parent.mkdir(parents=True, exist_ok=True)
            (Path(view) / relative).write_bytes(content)
        binds = {
            f"{SANDBOX_ROOT}/coursekit": Path(coursekit.__file__).parent,
            f"{SANDBOX_ROOT}/autograder/inside": Path(autograder.inside.__file__).parent,
            f"{SANDBOX_ROOT}/release": Path(view),
        }
        with kernel_sandbox(kernel, limits, binds, sandbox_environment(), unsafe=unsafe) as sandbox:
            job: RunnerJob = {
                "notebook": rebuilt.notebook,
                "learner_cells": rebuilt.learner_cells,
                "course_cells": kit.course_cells,
                "importable": kit.importable,
                "cell_seconds": limits.cell_seconds,
                "wall_seconds": limits.wall_seconds,
                "output_bytes": limits.output_bytes,
                # The runner runs no learner code, but reads what the kernel sends.
                "runner_memory_bytes": 2 * limits.memory_bytes,
                "matplotlib_font_list": font_list,
                "probes": probes,
                "kernel": sandbox,
            }
            finished = run_capped(RUNNER, json.dumps(job).encode(), limits, runner_environment())
    notes = list(rebuilt.notes) + ([UNSAFE_NOTE] if unsafe else [])
    if finished.timed_out:
        return Graded(zero_report(kit, f"the notebook ran past its {limits.wall_seconds} s time limit"), None)
    try:
        if finished.returncode != 0:
            raise ValueError("a runner that did not end normally has no result")
        outcome: RunnerOutcome = json.loads(finished.stdout)
        if not isinstance(outcome, dict):
            raise ValueError("not a result")
    except ValueError:
        log = finished.stderr.decode(errors="replace").strip()[-2000:]
        print(f"{name}: the sandbox ended without a result; its last words:\n{log}", file=sys.stderr)
        return Graded(
            zero_report(
                kit,
                f"the grading process in the sandbox ended without a result ({exit_status(finished.returncode, True)}):"
                " the notebook's code stopped it, or went over a limit (memory, processes, file size, CPU time)",
            ),
            None,
        )
    unreadable = invalid_text(outcome)
    if unreadable:
        return Graded(zero_report(kit, unreadable), None)
    executed: nbformat.NotebookNode = nbformat.from_dict(outcome["notebook"])
    scrub_outputs(executed, set(kit.hidden_lines))
    report = score(kit, executed, outcome, limits, rebuilt.learner_cells, notes)
    return Graded(report, executed)


@functools.cache
def matplotlib_font_list() -> dict[str, str]:
    """This machine's matplotlib font list ({file name: JSON text}), built here once per process.

    The runner puts it into the sandbox's empty matplotlib folder, so that a notebook's first
    plot does not rebuild it (about 0.4 s of CPU a notebook). Should a font it names be
    missing in the sandbox, matplotlib rebuilds the list there by itself."""
    import matplotlib
    import matplotlib.font_manager  # noqa: F401  (builds and saves the list when there is none)

    return {path.name: path.read_text() for path in Path(matplotlib.get_cachedir()).glob("fontlist-*.json")}


def runner_environment() -> dict[str, str]:
    """The runner's variables: the grader's, plus one. nbformat validates every output the runner
    receives; its default validator, fastjsonschema, first compiles the schema: 0.1 s of CPU a
    notebook, more than jsonschema takes for all of a notebook's outputs."""
    return {**os.environ, "NBFORMAT_VALIDATOR": "jsonschema"}


def sandbox_environment() -> dict[str, str]:
    """The few variables the sandboxed kernel gets."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONPATH": SANDBOX_ROOT,
        "PYTHONDONTWRITEBYTECODE": "1",
        "JUPYTER_RUNTIME_DIR": "/tmp/jupyter",
        "IPYTHONDIR": "/tmp/ipython",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        # The chapter's last cell, check_my_work, runs nothing when grading: the graded cells are the score.
        GRADING_ENV: "1",
    }


def invalid_text(outcome: object) -> str | None:
    """Why the sandbox's result holds text that no notebook file, page or gradebook can hold
    (a lone surrogate, a NUL character), or None: such a result is that learner's 0, with this reason."""
    for text in strings(outcome):
        if "\x00" in text:
            return "the notebook's outputs hold a NUL character"
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "the notebook's outputs hold text that is not valid Unicode (a lone surrogate)"
    return None


def strings(value: object) -> Iterator[str]:
    """Every string in a parsed JSON value: the keys and values of its objects, its arrays' items."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def released_version(notebook: nbformat.NotebookNode) -> str:
    """The course version that released ``notebook`` (:func:`autograder.release.stamp_version`),
    or ``unknown`` when it carries none or not one that looks like a version (the learner can edit it)."""
    version = notebook.metadata.get("course", {}).get("released_by") if isinstance(notebook.metadata, dict) else None
    return version if isinstance(version, str) and VERSION.fullmatch(version) else UNKNOWN_VERSION


def chapter_mismatch(kit: GradingKit, notebook: nbformat.NotebookNode) -> str | None:
    try:
        found = find_chapter(notebook)
    except NotGradable as error:
        return str(error)
    if found.assignment != kit.assignment:
        return f"this is the notebook of {found.assignment}, not of {kit.assignment}"
    return None


def exit_status(code: int | str | None, shell: bool = False) -> str:
    """A process's end in words: its exit status, or the signal that killed it (negative
    ``code``; with ``shell``, also 128 + the signal, as bwrap and shells report it)."""
    number = int(code) if code not in (None, "unknown") else None
    if number is None:
        return "unknown exit status"
    if shell and 128 < number < 160:
        number = 128 - number
    if number < 0:
        return f"killed by signal {signal.Signals(-number).name}"
    return f"exit status {number}"


def scrub_outputs(notebook: nbformat.NotebookNode, hidden: set[str]) -> None:
    """Remove every output line that quotes a hidden test line, in every cell."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = scrub(output["text"], hidden)
            if "traceback" in output:
                output["traceback"] = [scrub(line, hidden) for line in output["traceback"]]
                output["evalue"] = scrub(output.get("evalue", ""), hidden)
            for kind, value in output.get("data", {}).items():
                if isinstance(value, str):
                    output["data"][kind] = scrub(value, hidden)


def score(
    kit: GradingKit,
    executed: nbformat.NotebookNode,
    outcome: RunnerOutcome,
    limits: Limits,
    learner_cells: tuple[str, ...],
    notes: list[str],
) -> GradeReport:
    """Points per test cell (nbgrader's rule: an error or stderr output fails it), and why."""
    template: nbformat.NotebookNode = nbformat.from_dict(kit.template)
    by_id = {cell.id: cell for cell in executed.cells}
    names = {
        cell.id: cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {n}"
        for n, cell in enumerate(template.cells, 1)
    }
    stopped = outcome.get("stopped")
    stop_reason = stop_problem(stopped, names, limits) if stopped else None
    fail_tests(executed, stop_reason or "this test did not run", only_unrun=True)
    interrupted = set(outcome.get("interrupted", []))
    observations = outcome.get("observations")
    observations = observations if isinstance(observations, dict) else {}
    tests = []
    for cell in template.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade"):
            continue
        graded: nbformat.NotebookNode = nbformat.from_dict({**cell, "outputs": by_id[cell.id].outputs})
        if determine_grade(graded)[0] and (why := verdict(kit.hidden, meta["grade_id"], observations.get(cell.id))):
            disagree(by_id[cell.id], why)
            graded.outputs = by_id[cell.id].outputs
        points, max_points = float(determine_grade(graded)[0] or 0), float(meta.get("points", 0))
        message = "" if points == max_points else cell_message(graded, cell.id in interrupted, limits.cell_seconds)
        tests.append(TestResult(meta["grade_id"], points, max_points, points == max_points, message))
    problems = [stop_reason] if stop_reason else []
    learner_errors = learner_cell_errors(executed, set(learner_cells), interrupted, names, limits.cell_seconds)
    problems += [learner_errors] if learner_errors else []
    problems += notes
    review = [
        f"{names.get(flag.split(':')[0], flag.split(':')[0])}:{flag.partition(':')[2]}"
        for flag in outcome.get("flags", [])
    ]
    return GradeReport(
        kit.assignment,
        sum(t.points for t in tests),
        sum(t.max_points for t in tests),
        tests,
        "; ".join(problems) or None,
        review,
    )


def stop_problem(stopped: Stopped, names: dict[str, str], limits: Limits) -> str:
    cell = names.get(stopped["cell"], stopped["cell"])
    if stopped["kind"] == "wall":
        return f"the notebook ran past its {limits.wall_seconds} s time limit (at {cell}) and was stopped"
    if stopped["kind"] == "cell-stuck":
        return (
            f"{cell} could not be stopped: interrupted after {limits.cell_seconds} s, it kept running "
            "(it catches KeyboardInterrupt, or awaits something that never happens)"
        )
    if stopped["kind"] == "wrote-outside":
        return (
            f"while running {cell}, your code wrote files into the folder of the kernel's connection "
            "(only /tmp is yours to write), so the run was stopped there"
        )
    status = exit_status(stopped["detail"], shell=True)  # the kernel's sandbox reports a signal as 128 + its number
    if status.startswith("killed"):
        return (
            f"the Python kernel was {status} while running {cell}: it went over the "
            f"{limits.memory_bytes // 1024**3} GB memory limit or a CPU-time limit, or its own code killed it"
        )
    return f"your code ended the Python kernel while running {cell} ({status}: os._exit(), or exit() in a thread)"


def disagree(cell: nbformat.NotebookNode, why: str) -> None:
    """Fail a test cell whose checks passed in the kernel but whose hidden scenarios disagree."""
    cell.outputs.append(nbformat.v4.new_output("error", ename=HIDDEN_SCENARIO, evalue=why, traceback=[why]))


def cell_message(cell: nbformat.NotebookNode, interrupted: bool, cell_seconds: int) -> str:
    """What a failed test cell said: its error's message (a check's property/observed/hint)."""
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            if output.ename == "KeyboardInterrupt" and interrupted:
                return f"this cell did not finish within {cell_seconds} s and was interrupted"
            if output.ename in ("CheckFailed", NOT_GRADED, HIDDEN_SCENARIO):
                return str(output.evalue)
            return f"{output.ename}: {output.evalue}"
    return "this test cell wrote to stderr, which nbgrader counts as a failure"


def learner_cell_errors(
    notebook: nbformat.NotebookNode, learner: set[str], interrupted: set[str], names: dict[str, str], cell_seconds: int
) -> str | None:
    """Which of the learner's cells stopped with an error, and why, if any."""
    failures = []
    for cell in notebook.cells:
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if cell.id not in learner or not errors:
            continue
        name, error = names.get(cell.id, cell.id), errors[0]
        if error.ename == "KeyboardInterrupt" and cell.id in interrupted:
            failures.append(
                f"{name} ran longer than {cell_seconds} s and was interrupted "
                "(an endless loop, or a blocking time.sleep?)"
            )
        elif error.ename == "KeyboardInterrupt":
            failures.append(f"{name} raised KeyboardInterrupt itself")
        elif error.ename == "SystemExit":
            failures.append(f"{name} raised SystemExit (sys.exit() or exit()), so it stopped there")
        else:
            failures.append(f"{name} raised {error.ename}: {error.evalue[:160]}")
    if not failures:
        return None
    return "; ".join(failures) + ". What those cells define is missing for the tests below them."
