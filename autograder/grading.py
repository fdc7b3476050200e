"""Grade one learner notebook with nbgrader, in a throwaway course directory, in a sandbox.

:func:`grade_file` never lets a broken or hostile notebook crash it: an unreadable
file, a notebook of another chapter, a kernel that dies, a run past the time budget,
all give a :class:`GradeReport` scoring 0 with the reason. Only a bad path or a file
that is not a notebook of this course raises :class:`~autograder.submission.NotGradable`.

The real course directory (gradebook, sources) is never touched: each grading run
copies the chapter's source into a fresh temporary course, releases it there (which
records the cells in a private gradebook), and autogrades the submission with the
kernel started by :mod:`autograder.sandbox`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from autograder.chapters import COURSE_DIR, Chapter, select_chapters
from autograder.nbgrader_run import tools_env
from autograder.sandbox import KERNEL_NAME, MEMORY_BYTES, install_kernelspec
from autograder.submission import NotGradable, Submission, find_chapter, read_submission
from autograder.tamper import scan

WALL_SECONDS = 600  # one notebook, every cell; cells are also cut at CELL_SECONDS each
CELL_SECONDS = 60
CHUNK = 8  # submissions per nbgrader run (its start-up is paid once per chunk)

GRADING_CONFIG = f"""

# --- added for sandboxed grading (autograder/grading.py) ---
c.ExecutePreprocessor.kernel_name = "{KERNEL_NAME}"
c.KernelManager.transport = "ipc"
c.ExecutePreprocessor.interrupt_on_timeout = True
c.OverwriteCells.add_missing_cells = True
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 40
"""


@dataclass
class TestResult:
    """One graded test cell: ``id`` is its nbgrader grade_id."""

    id: str
    points: float
    max_points: float
    passed: bool
    message: str


@dataclass
class GradeReport:
    """The score of one notebook and what each test cell said. ``problem`` is set when the
    notebook could not be run at all (then every test scores 0 with that reason)."""

    chapter: str
    score: float
    max_score: float
    tests: list[TestResult] = field(default_factory=list)
    problem: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def render(self) -> str:
        """A readable report: the score, then each test with its feedback."""
        lines = [f"{self.chapter}: {self.score:g} / {self.max_score:g} points"]
        if self.problem:
            lines.append(f"Could not run the notebook: {self.problem}")
        for test in self.tests:
            mark = "✓" if test.passed else "✗"
            lines.append(f"{mark} {test.id}: {test.points:g} / {test.max_points:g}")
            if not test.passed and test.message and test.message != self.problem:
                lines += [f"    {line}" for line in test.message.splitlines()]
        return "\n".join(lines)


def grade_file(path: Path, chapter_name: str | None = None) -> GradeReport:
    """Grade the notebook at ``path`` for ``chapter_name`` (found from the notebook if None)."""
    submission = read_submission(path)
    if chapter_name is None:
        if submission.notebook is None:
            raise NotGradable(
                f"{path}: {submission.problem}, so its chapter cannot be told; "
                "name it with --chapter to have it graded 0 with this reason"
            )
        chapter_name = find_chapter(submission.notebook).assignment
    return grade_files([path], chapter_name, workers=1)[0]


def grade_files(
    paths: list[Path],
    chapter_name: str,
    *,
    workers: int = 2,
    keep_executed: list[Path] | None = None,
    on_graded: Callable[[], None] = lambda: None,
    **limits: int,
) -> list[GradeReport]:
    """Grade submissions of one chapter, ``workers`` at a time; reports in the order of ``paths``.

    Each worker has a course of its own (nbgrader's gradebook is one SQLite file), so
    the scores are those of a serial run. ``keep_executed[i]``, if given, receives the
    executed notebook of ``paths[i]`` (when it ran). ``on_graded`` is called after each
    submission (progress). ``limits``: GradingCourse's cell/wall seconds."""
    chapter = select_chapters([chapter_name])[0]
    submissions = [
        read_submission(path)
        if path.is_file()
        else Submission(path, None, f"the submission has no notebook named {path.name}")
        for path in paths
    ]
    reports: list[GradeReport | None] = [None] * len(paths)
    for index, submission in enumerate(submissions):
        problem = submission.problem or _chapter_mismatch(submission, chapter)
        if problem:
            reports[index] = zero_report(chapter, problem)
            on_graded()

    pending = [index for index, report in enumerate(reports) if report is None]
    chunks = [pending[start::workers] for start in range(max(1, workers))]

    def worker(chunk: list[int]) -> None:
        with GradingCourse(chapter, **limits) as course:
            for start in range(0, len(chunk), CHUNK):
                indices = chunk[start : start + CHUNK]
                graded = course.grade_many(
                    [
                        (f"submission-{index}", submissions[index], keep_executed[index] if keep_executed else None)
                        for index in indices
                    ]
                )
                for index in indices:
                    reports[index] = graded[f"submission-{index}"]
                    on_graded()

    threads = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks if chunk]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [report for report in reports if report is not None]


def _chapter_mismatch(submission: Submission, chapter: Chapter) -> str | None:
    try:
        found = find_chapter(submission.notebook)
    except NotGradable as error:
        return str(error)
    if found.assignment != chapter.assignment:
        return f"this is the notebook of {found.assignment}, not of {chapter.assignment}"
    return None


def tampering_problem(notebook: nbformat.NotebookNode) -> str | None:
    """The reason to grade 0 if the solution cells change the course's tools, else None."""
    findings = scan(notebook)
    if not findings:
        return None
    listed = "; ".join(map(str, findings[:5])) + (f"; and {len(findings) - 5} more" if len(findings) > 5 else "")
    return (
        "your solution cells change the course's own tools or modules instead of solving the exercises, "
        f"so the checks cannot be trusted: {listed}"
    )


def zero_report(chapter: Chapter, problem: str) -> GradeReport:
    """Every test cell of ``chapter`` at 0 points, with ``problem`` as the reason."""
    tests = [
        TestResult(
            cell.metadata.nbgrader["grade_id"], 0.0, float(cell.metadata.nbgrader.get("points", 0)), False, problem
        )
        for path in chapter.notebooks
        for cell in nbformat.read(path, as_version=4).cells
        if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code"
    ]
    return GradeReport(chapter.assignment, 0.0, sum(test.max_points for test in tests), tests, problem)


class GradingCourse:
    """A temporary nbgrader course holding one chapter, released and ready to autograde.

    ``cell_seconds``: wall time one cell may run before it is interrupted;
    ``wall_seconds``: wall time one whole notebook may take before grading gives up."""

    def __init__(self, chapter: Chapter, *, cell_seconds: int = CELL_SECONDS, wall_seconds: int = WALL_SECONDS) -> None:
        self.chapter = chapter
        self.cell_seconds = cell_seconds
        self.wall_seconds = wall_seconds

    def __enter__(self) -> GradingCourse:
        self.root = Path(tempfile.mkdtemp(prefix="course-grading-"))
        self.course = self.root / "autograder"
        self.course.mkdir()
        runtime = self.root / "runtime"
        runtime.mkdir()
        runtime.chmod(0o1777)  # the sandboxed kernel (nobody) creates its sockets here
        config = (COURSE_DIR / "nbgrader_config.py").read_text() + GRADING_CONFIG
        config += f"c.KernelManager.ip = {str(runtime / 'kernel-ipc')!r}  # socket path prefix\n"
        config += f"c.ExecutePreprocessor.timeout = {self.cell_seconds}\n"
        (self.course / "nbgrader_config.py").write_text(config)
        sources = self.root / "notebooks"
        shutil.copytree(
            self.chapter.source,
            sources / self.chapter.assignment,
            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
        )
        install_kernelspec(self.root / "jupyter")
        self.env = {
            **tools_env(),
            "JUPYTER_PATH": str(self.root / "jupyter"),
            "JUPYTER_RUNTIME_DIR": str(runtime),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(COURSE_DIR.parent), os.environ.get("PYTHONPATH")])),
        }
        self._nbgrader("generate_assignment", self.chapter.assignment, "--force")
        # The kernel runs as nobody: it may pass through the course, not read sources or grades.
        for private in (sources, self.course / "gradebook.db", self.course / "release"):
            private.chmod(0o700 if private.is_dir() else 0o600)
        self.root.chmod(0o711)
        self.course.chmod(0o711)
        return self

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def grade_many(self, work: list[tuple[str, Submission, Path | None]]) -> dict[str, GradeReport]:
        """Autograde several submissions in one nbgrader run (one start-up for all of them).

        ``work`` holds (student, submission, where to copy the executed notebook or None).
        If the run as a whole overruns ``wall_seconds`` per submission, the submissions
        it did not finish are graded again one at a time, so one cannot hold the others hostage."""
        reports: dict[str, GradeReport] = {}
        notebook_name = self.chapter.notebooks[0].name
        to_run = []
        for student, submission, keep in work:
            tampering = tampering_problem(submission.notebook)
            if tampering:
                reports[student] = zero_report(self.chapter, tampering)
                continue
            folder = self.course / "submitted" / student / self.chapter.assignment
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(submission.notebook, folder / notebook_name)
            to_run.append((student, keep))
        if not to_run:
            return reports
        who = ["--student", to_run[0][0]] if len(to_run) == 1 else []
        try:
            log = self._nbgrader(
                "autograde", self.chapter.assignment, *who, "--force", timeout=self.wall_seconds * len(to_run)
            )
        except subprocess.TimeoutExpired:
            if len(to_run) == 1:
                reports[to_run[0][0]] = zero_report(
                    self.chapter,
                    f"grading took longer than {self.wall_seconds} s and was stopped "
                    "(does a cell loop forever while catching KeyboardInterrupt?)",
                )
                return reports
            log = ""
        for student, keep in to_run:
            autograded = self.course / "autograded" / student / self.chapter.assignment / notebook_name
            section = _log_section(log, student)
            if autograded.exists() and section:
                if keep is not None:
                    keep.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(autograded, keep)
                reports[student] = self._report(student, nbformat.read(autograded, as_version=4), section)
            elif log and section:
                reports[student] = zero_report(self.chapter, _nbgrader_failure(section))
            else:  # the whole run overran: grade this one alone
                submitted = self.course / "submitted" / student / self.chapter.assignment / notebook_name
                alone = Submission(submitted, nbformat.read(submitted, as_version=4), None)
                reports[student] = self.grade_many([(student, alone, keep)])[student]
        for student, _ in to_run:  # so that the next run of this course does not grade them again
            shutil.rmtree(self.course / "submitted" / student, ignore_errors=True)
        return reports

    def _report(self, student: str, autograded: nbformat.NotebookNode, log: str) -> GradeReport:
        from nbgrader.api import Gradebook

        cells = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in autograded.cells}
        tests = []
        with Gradebook(f"sqlite:///{self.course / 'gradebook.db'}") as gradebook:
            submission = gradebook.find_submission(self.chapter.assignment, student)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if grade.cell.cell_type != "code":
                        continue
                    score, max_score = float(grade.score or 0), float(grade.max_score)
                    message = _cell_message(cells.get(grade.name), self.cell_seconds) if score < max_score else ""
                    tests.append(TestResult(grade.name, score, max_score, score == max_score, message))
        problem = _nbgrader_failure(log) if _kernel_died(log) else _learner_cell_errors(autograded, self.cell_seconds)
        return GradeReport(
            self.chapter.assignment, sum(t.points for t in tests), sum(t.max_points for t in tests), tests, problem
        )

    def _nbgrader(self, *args: str, timeout: float | None = None) -> str:
        """Run nbgrader in the temporary course; return its combined output (its log)."""
        result = subprocess.run(
            [sys.executable, "-m", "nbgrader", *args],
            cwd=self.course,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=timeout,
        )
        return result.stdout


def _cell_message(cell: nbformat.NotebookNode | None, cell_seconds: int) -> str:
    """What a failed test cell said: its error's message (a check's property/observed/hint)."""
    if cell is None:
        return "this test cell is missing from the graded notebook"
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            if output.ename == "CellTimeoutError":
                return f"this cell did not finish within {cell_seconds} s and was interrupted"
            return f"{output.ename}: {output.evalue}" if output.ename != "CheckFailed" else output.evalue
    return "this test cell failed without an error message (did it write to stderr?)"


def _learner_cell_errors(notebook: nbformat.NotebookNode, cell_seconds: int) -> str | None:
    """Which of the learner's (non-test) cells stopped with an error, and why, if any."""
    failures = []
    for number, cell in enumerate(notebook.cells, start=1):
        meta = cell.metadata.get("nbgrader", {})
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if cell.cell_type != "code" or meta.get("grade") or not errors:
            continue
        name = meta.get("grade_id") or f"cell {number}"
        error = errors[0]
        if error.ename in ("KeyboardInterrupt", "CellTimeoutError"):
            failures.append(
                f"{name} ran longer than {cell_seconds} s and was interrupted "
                "(an endless loop, or a blocking time.sleep?)"
            )
        else:
            failures.append(f"{name} raised {error.ename}: {error.evalue[:160]}")
    if not failures:
        return None
    return "; ".join(failures) + ". What those cells define is missing for the tests below them."


def _log_section(log: str, student: str) -> str:
    """The part of an nbgrader autograde log about ``student`` ("" if it never got to them)."""
    parts = re.split(r"(?=\[AutogradeApp \| INFO\] Creating/updating student with ID ')", log)
    return next(
        (
            part
            for part in parts
            if part.startswith(f"[AutogradeApp | INFO] Creating/updating student with ID '{student}'")
        ),
        "",
    )


def _kernel_died(log: str) -> bool:
    return "DeadKernelError" in log or "Kernel died" in log or "kernel died" in log


def _nbgrader_failure(log: str) -> str:
    """Why nbgrader could not grade, in a learner's words, from its log."""
    if _kernel_died(log):
        return (
            "the Python kernel died while running your notebook: os._exit(), a crash, or more "
            f"memory than the {MEMORY_BYTES // 1024**3} GB limit"
        )
    if "Timeout waiting for execute reply" in log:
        return (
            "a cell could not be stopped: it was interrupted after the time limit and still did not "
            "finish (it awaits something that never happens, or catches KeyboardInterrupt)"
        )
    match = re.search(r"\[AutogradeApp \| ERROR\] (.+)", log)
    return f"nbgrader could not grade it: {match.group(1)}" if match else "nbgrader could not grade it"
