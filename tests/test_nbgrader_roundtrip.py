"""Each chapter survives grading's whole cycle: release, grading, recording, feedback.

For every chapter, in a throwaway copy of the course directory (the real gradebook is never
touched):

- the release holds no solution code and no hidden tests, only nbgrader's stubs;
- the reference solutions, graded as grade-all grades them (in the sandbox, whose read-only
  view holds neither `solutions/` nor `notebooks/`, then recorded with nbgrader's
  ``autograde --no-execute``), score full marks with no stderr in any test cell;
- nbgrader's own ``autograde`` (the formgrader's button: it runs the notebook itself)
  scores the untouched release 0 on every graded cell (so no test cell passes before its
  exercise is solved: what ``nbgrader validate --invert`` checks), and every other cell of
  the untouched release runs without an error (Run All shows the whole chapter; a cell
  that needs an exercise says which);
- a representative wrong implementation, from ``tests/wrong_implementations/<topic>/``
  (the reference with one solution cell replaced by the code its patch changes), earns
  partial credit from nbgrader's own autograde: the test cell that runs its check scores 0
  and shows the intended property, and the other cells keep their points; the sandbox,
  without the answers, gives it the same points cell by cell (every wrong implementation
  is run through the graded cells in-process by tests/test_wrong_implementations.py);
- the feedback HTML quotes no hidden test line.

These run the notebooks, so they are slow: the chapters go through it two per core at a
time (one release, two sandboxed gradings, one nbgrader autograde of two students, one
feedback each), once for all the tests below, in that many worker processes: nbgrader
starts once per worker, not once per step. (A notebook's kernel leaves its core idle part
of the time, so two per core finish sooner.)
"""

from __future__ import annotations

import ast
import html
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from autograder.chapters import COURSE_DIR, Chapter, find_chapters
from autograder.grading import grade_submission
from autograder.kit import load_kit
from autograder.nbgrader_run import nbgrader_api, require_success
from autograder.record import recording
from autograder.report import GradeReport
from autograder.sandbox import Limits
from tests.graded_cells import errors_of
from tests.per_chapter import outcome_of, per_chapter
from tests.wrong_cases import wrong_cases

pytestmark = [pytest.mark.slow, pytest.mark.every_core]  # slow: left out by `course.py test --quick`

CHAPTERS = find_chapters()
STUDENTS = ("full", "none")
LIMITS = Limits(cell_seconds=120, wall_seconds=900)  # generous: two chapters per core run at once


@dataclass(frozen=True)
class WrongImplementation:
    """A buggy solution cell: the function or class it replaces and the check failure it must cause."""

    student: str
    code: str
    function: str
    expect: dict


def representative_wrong(notebook: Path) -> WrongImplementation:
    """The first, by file name, of the wrong implementations kept for a chapter notebook (folder
    named after its stem).

    Every one of them fails its graded cell in-process (tests/test_wrong_implementations.py);
    this one shows that nbgrader scores such a cell 0 and keeps the other cells' points."""
    cases = wrong_cases(notebook.stem)
    assert cases, f"no wrong implementations in tests/wrong_implementations/{notebook.stem}/"
    first = cases[0]
    function = next(
        node.name
        for node in ast.parse(first.code).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    )
    return WrongImplementation(f"wrong-{first.name.replace('_', '-')}", first.code, function, first.expect)


STUB_LINES = ("# YOUR CODE HERE", "raise NotImplementedError()", "YOUR ANSWER HERE")


def regions(source: str, begin: str, end: str) -> list[list[str]]:
    """The lines strictly between each ``begin`` and ``end`` delimiter line (nbgrader's matching)."""
    found: list[list[str]] = []
    current: list[str] | None = None
    for line in source.splitlines():
        if begin in line:
            current = []
        elif end in line and current is not None:
            found.append(current)
            current = None
        elif current is not None:
            current.append(line)
    return found


def without_regions(source: str) -> str:
    """``source`` minus every solution and hidden-test region, delimiters included."""
    kept, inside = [], False
    for line in source.splitlines():
        if "BEGIN SOLUTION" in line or "BEGIN HIDDEN TESTS" in line:
            inside = True
        elif "END SOLUTION" in line or "END HIDDEN TESTS" in line:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept)


def without_delimiters(source: str) -> str:
    """A solution cell as a learner who wrote the reference solution would leave it."""
    return "\n".join(
        line for line in source.splitlines() if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line
    )


def notebook_text(nb: nbformat.NotebookNode) -> str:
    """Every cell's source and every output's text, one string."""
    parts = []
    for cell in nb.cells:
        parts.append(cell.source)
        for output in cell.get("outputs", []):
            parts.append(str(output.get("text", "")))
            parts.extend(str(value) for value in output.get("data", {}).values())
            parts.extend(output.get("traceback", []))
            parts.append(str(output.get("evalue", "")))
    return "\n".join(parts)


def html_text(path: Path) -> str:
    """What a browser shows of an HTML file: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]*>", "", path.read_text(encoding="utf-8")))


@dataclass
class SecretText:
    """What of a source notebook must not reach learners, by region."""

    solution_regions: list[str] = field(default_factory=list)
    hidden_regions: list[str] = field(default_factory=list)
    solution_lines: set[str] = field(default_factory=set)
    hidden_lines: set[str] = field(default_factory=set)


def secret_text(nb: nbformat.NotebookNode) -> SecretText:
    """Solution and hidden-test regions, and their lines found nowhere else in the notebook.

    A line that also appears outside every region (``return results``, ``)``)
    legitimately appears in the release, so only the other lines are checked."""
    public = "\n".join([*(without_regions(cell.source) for cell in nb.cells), *STUB_LINES])
    secrets = SecretText()
    for cell in nb.cells:
        for region in regions(cell.source, "BEGIN SOLUTION", "END SOLUTION"):
            secrets.solution_regions.append("\n".join(region).strip())
            secrets.solution_lines |= {line.strip() for line in region if line.strip() not in public}
        for region in regions(cell.source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            secrets.hidden_regions.append("\n".join(region).strip())
            secrets.hidden_lines |= {line.strip() for line in region if line.strip() not in public}
    secrets.solution_lines.discard("")
    secrets.hidden_lines.discard("")
    secrets.solution_regions = [text for text in secrets.solution_regions if text and text not in public]
    secrets.hidden_regions = [text for text in secrets.hidden_regions if text and text not in public]
    return secrets


def grade_id(cell: nbformat.NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def is_solution(cell: nbformat.NotebookNode) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("solution"))


def is_test(cell: nbformat.NotebookNode) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def fill_in(
    release: nbformat.NotebookNode, source: nbformat.NotebookNode, ids: set[str | None]
) -> nbformat.NotebookNode:
    """A copy of ``release`` whose solution cells named in ``ids`` hold the source's solution."""
    answers = {grade_id(cell): cell.source for cell in source.cells if is_solution(cell)}
    filled = nbformat.from_dict(release)
    for cell in filled.cells:
        if is_solution(cell) and grade_id(cell) in ids:
            cell.source = without_delimiters(answers[grade_id(cell)])
    return filled


@dataclass
class Roundtrip:
    """One chapter taken through nbgrader in a copy of the course directory."""

    chapter: Chapter
    course: Path
    sources: dict[str, nbformat.NotebookNode]
    scores: dict[str, tuple[float, float]]
    cell_scores: dict[str, list[tuple[str, float, float]]]
    wrong: list[WrongImplementation]
    sandboxed: dict[str, GradeReport]  # the reference ("full") and the wrong one, graded in the sandbox

    def path(self, step: str, notebook: str, student: str | None = None, suffix: str = ".ipynb") -> Path:
        folder = self.course / step / (student or "") / self.chapter.assignment
        return folder / (Path(notebook).stem + suffix)

    def read(self, step: str, notebook: str, student: str | None = None) -> nbformat.NotebookNode:
        return nbformat.read(self.path(step, notebook, student), as_version=4)


def make_submissions(
    course: Path, assignment: str, sources: dict[str, nbformat.NotebookNode], wrong: list[WrongImplementation]
) -> dict[str, nbformat.NotebookNode]:
    """Each student's notebook, built from the release as a learner would: ``full`` (the reference),
    ``none`` (untouched) and one per wrong implementation; all but ``full`` are also put in
    ``submitted/<student>/<assignment>/`` for nbgrader's own autograde."""
    release = {name: nbformat.read(course / "release" / assignment / name, as_version=4) for name in sources}
    ((name, source),) = sources.items()  # one notebook a chapter
    every_id = {grade_id(cell) for cell in source.cells if is_solution(cell)}
    assert every_id, f"{assignment}/{name} has no solution cell"
    students = {"full": fill_in(release[name], source, every_id), "none": fill_in(release[name], source, set())}
    for mistake in wrong:
        students[mistake.student] = replace_function(fill_in(release[name], source, every_id), mistake)
    for student, notebook in students.items():
        if student != "full":
            folder = course / "submitted" / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, folder / name)
    return students


def replace_function(notebook: nbformat.NotebookNode, wrong: WrongImplementation) -> nbformat.NotebookNode:
    """``notebook`` with the solution cell that defines ``wrong.function`` (a function or class)
    holding the wrong code."""
    definition = re.compile(rf"^((async )?def|class) {wrong.function}\b", re.MULTILINE)
    cells = [cell for cell in notebook.cells if is_solution(cell) and definition.search(cell.source)]
    assert len(cells) == 1, f"expected one solution cell defining {wrong.function}, found {len(cells)}"
    cells[0].source = wrong.code
    return notebook


def read_scores(course: Path, assignment: str, students: list[str]) -> tuple[dict, dict]:
    """Each student's (score, max_score), and each graded cell's (name, score, max_score).

    Called within :func:`nbgrader_api` (nbgrader's Gradebook runs ``alembic``)."""
    from nbgrader.api import Gradebook

    scores, cell_scores = {}, {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in students:
            submission = gradebook.find_submission(assignment, student)
            scores[student] = (submission.score, submission.max_score)
            cell_scores[student] = [
                (f"{notebook.name}:{grade.name}", grade.score, grade.max_score)
                for notebook in submission.notebooks
                for grade in notebook.grades
            ]
    return scores, cell_scores


def as_bytes(notebook: nbformat.NotebookNode) -> bytes:
    return nbformat.writes(notebook).encode()


def take_through_nbgrader(chapter: Chapter, root: Path) -> Roundtrip:
    """Release ``chapter`` in a throwaway course under ``root``; grade the reference and the wrong one in
    the sandbox and record the reference as grade-all does; autograde the others with nbgrader's own
    autograde; give the wrong one feedback.

    Runs in a worker process (see the ``roundtrips`` fixture), through nbgrader's Python API."""
    course = root / "autograder"
    course.mkdir(parents=True)
    shutil.copy2(COURSE_DIR / "nbgrader_config.py", course)
    copied = Chapter(chapter.assignment, root / "notebooks" / chapter.assignment)
    shutil.copytree(chapter.source, copied.source, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    sources = {path.name: nbformat.read(path, as_version=4) for path in chapter.notebooks}
    wrong = [representative_wrong(path) for path in chapter.notebooks]
    assignment = chapter.assignment
    with nbgrader_api(course) as api:
        require_success(
            api.generate_assignment(assignment, force=True), f"nbgrader generate_assignment {assignment}", course
        )
    notebooks = make_submissions(course, assignment, sources, wrong)
    kit = load_kit(copied, course)
    sandboxed = {
        student: grade_submission(
            kit, f"{student}/{kit.notebook_name}", nbformat.writes(notebooks[student]).encode(), LIMITS
        )
        for student in ("full", *(mistake.student for mistake in wrong))
    }
    with recording(kit, course) as recorder:
        assert not recorder.record({"full": sandboxed["full"]}), "grade-all's recording of the reference failed"
    with nbgrader_api(course) as api:
        require_success(api.autograde(assignment, "*", force=True), f"nbgrader autograde {assignment}", course)
        result = api.generate_feedback(assignment, wrong[0].student, force=True)
        require_success(result, f"nbgrader generate_feedback {assignment} --student {wrong[0].student}", course)
        scores, cell_scores = read_scores(course, assignment, [*STUDENTS, *(w.student for w in wrong)])
    reports = {student: graded.report for student, graded in sandboxed.items()}
    return Roundtrip(chapter, course, sources, scores, cell_scores, wrong, reports)


@pytest.fixture(scope="module")
def roundtrips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Roundtrip | BaseException]:
    """Every chapter through nbgrader, two per core at a time (worker processes, each starting
    nbgrader once): assignment -> its round trip, or the error that stopped it (reported by that
    chapter's tests only)."""
    root = tmp_path_factory.mktemp("roundtrips")
    return per_chapter(take_through_nbgrader, CHAPTERS, root, processes=True)


@pytest.fixture(
    params=[pytest.param(chapter, id=chapter.assignment) for chapter in CHAPTERS]
    or [pytest.param(None, id="no-chapters")],
)
def roundtrip(request: pytest.FixtureRequest, roundtrips: dict[str, Roundtrip | BaseException]) -> Roundtrip:
    chapter: Chapter | None = request.param
    if chapter is None:
        pytest.fail("no chapters found: expected notebooks/ch*/<notebook>.ipynb")
    return outcome_of(roundtrips, chapter)


def test_source_has_solutions_and_hidden_tests(roundtrip: Roundtrip) -> None:
    for name, source in roundtrip.sources.items():
        secrets = secret_text(source)
        assert secrets.solution_lines, f"{name}: no solution region (### BEGIN SOLUTION) to check"
        assert any(is_test(cell) for cell in source.cells), f"{name}: no graded test cell"
    assert any(secret_text(source).hidden_lines for source in roundtrip.sources.values()), (
        f"{roundtrip.chapter.assignment}: no hidden test region (### BEGIN HIDDEN TESTS) to check"
    )


def test_release_has_stubs_not_solutions(roundtrip: Roundtrip) -> None:
    for name, source in roundtrip.sources.items():
        release = roundtrip.read("release", name)
        text = notebook_text(release)
        secrets = secret_text(source)
        leaked = sorted(line for line in secrets.solution_lines if line in text)
        assert not leaked, f"{name}: the release contains solution lines: {leaked}"
        leaked_regions = [region for region in secrets.solution_regions if region in text]
        assert not leaked_regions, f"{name}: the release contains solution regions: {leaked_regions}"
        for cell in release.cells:
            if is_solution(cell) and cell.cell_type == "code":
                assert "YOUR CODE HERE" in cell.source and "raise NotImplementedError" in cell.source, (
                    f"{name}: solution cell {grade_id(cell)} has no nbgrader stub:\n{cell.source}"
                )
            if cell.cell_type == "code":
                assert not cell.outputs, f"{name}: release cell {grade_id(cell) or cell.source[:40]!r} has outputs"


def test_release_has_no_hidden_tests(roundtrip: Roundtrip) -> None:
    for name, source in roundtrip.sources.items():
        text = notebook_text(roundtrip.read("release", name))
        secrets = secret_text(source)
        leaked = sorted(line for line in secrets.hidden_lines if line in text)
        assert not leaked, f"{name}: the release contains hidden test lines: {leaked}"
        leaked_regions = [region for region in secrets.hidden_regions if region in text]
        assert not leaked_regions, f"{name}: the release contains hidden test regions: {leaked_regions}"
        assert "HIDDEN TESTS" not in text, f"{name}: the release contains a hidden-test delimiter"


def test_reference_solutions_score_full_marks(roundtrip: Roundtrip) -> None:
    score, max_score = roundtrip.scores["full"]
    assert max_score > 0
    lost = [cell for cell in roundtrip.cell_scores["full"] if cell[1] != cell[2]]
    assert score == max_score and not lost, f"reference solutions scored {score}/{max_score}; lost: {lost}"


def test_reference_solutions_leave_no_stderr_in_test_cells(roundtrip: Roundtrip) -> None:
    """nbgrader fails a test cell with any stderr output (a warning, an unawaited coroutine)."""
    for name in roundtrip.sources:
        for cell in roundtrip.read("autograded", name, "full").cells:
            if not is_test(cell):
                continue
            noise = errors_of(cell)
            assert not noise, f"{name}: test cell {grade_id(cell)} wrote to stderr or raised:\n{noise}"


def test_untouched_release_scores_zero_everywhere(roundtrip: Roundtrip) -> None:
    scored = [cell for cell in roundtrip.cell_scores["none"] if cell[1] != 0]
    assert not scored, (
        f"the untouched release earned points in: {scored}. A cell whose visible part is only a comment "
        "(all its tests hidden) passes before the exercise is solved; give it a visible line that fails "
        "until then, or put its hidden tests in the exercise's visible test cell"
    )
    assert roundtrip.scores["none"][0] == 0


def test_untouched_release_runs_every_cell_but_the_checks(roundtrip: Roundtrip) -> None:
    """Run All on an untouched chapter shows all of it: only graded cells fail (tagged raises-exception,
    so JupyterLab's Run All goes on past them); a cell that needs an exercise says which, without an error."""
    for name in roundtrip.sources:
        for cell in roundtrip.read("autograded", name, "none").cells:
            if cell.cell_type != "code":
                continue
            if is_test(cell):
                assert "raises-exception" in cell.metadata.get("tags", []), f"{name}: {grade_id(cell)} stops Run All"
                continue
            noise = errors_of(cell)
            assert not noise, f"{name}: on the untouched release, this cell fails:\n{cell.source[:300]}\n{noise}"


def test_feedback_shows_no_hidden_tests(roundtrip: Roundtrip) -> None:
    for name, source in roundtrip.sources.items():
        hidden = secret_text(source).hidden_lines
        student = roundtrip.wrong[0].student
        autograded = notebook_text(roundtrip.read("autograded", name, student))
        assert all(line in autograded for line in hidden), "autograde did not restore the hidden tests"
        feedback = html_text(roundtrip.path("feedback", name, student, suffix=".html"))
        assert "Score" in feedback or "score" in feedback, "feedback HTML without a score"
        leaked = sorted(line for line in hidden if line in feedback)
        assert not leaked, f"{name}: the feedback HTML quotes hidden test lines: {leaked}"


def test_a_wrong_implementation_earns_partial_credit(roundtrip: Roundtrip) -> None:
    """It loses the points of the cell whose check it fails, and keeps some others."""
    for wrong in roundtrip.wrong:
        score, max_score = roundtrip.scores[wrong.student]
        print(f"{roundtrip.chapter.assignment} {wrong.student}: {score:g}/{max_score:g}")  # shown with -s
        assert 0 < score < max_score, (
            f"{wrong.student} scored {score}/{max_score}: {roundtrip.cell_scores[wrong.student]}"
        )
        failed_as_intended = []
        for name in roundtrip.sources:
            cells = {grade_id(cell): cell for cell in roundtrip.read("autograded", name, wrong.student).cells}
            for cell_name, cell_score, _ in roundtrip.cell_scores[wrong.student]:
                cell = cells.get(cell_name.split(":", 1)[1])
                errors = [o for o in (cell.outputs if cell else []) if o.output_type == "error"]
                if cell_score == 0 and any(f"{wrong.expect['property']}: FAILED" in o.evalue for o in errors):
                    failed_as_intended.append(cell_name)
        assert failed_as_intended, (
            f"{wrong.student}: no test cell scored 0 with "
            f"'{wrong.expect['property']}: FAILED'; cells: {roundtrip.cell_scores[wrong.student]}"
        )


def test_the_sandbox_scores_without_the_answers_what_nbgrader_scores(roundtrip: Roundtrip) -> None:
    """Graded in the sandbox, where `solutions/` and `notebooks/` are absent, the reference scores full
    marks with nothing for review, and the wrong implementation partial credit, no cell more than
    nbgrader's own autograde gave it (the batch's hidden scenarios can only take points away: a
    later exercise that uses the wrong function loses them too)."""
    full = roundtrip.sandboxed["full"]
    assert full.score == full.max_score > 0 and not full.review and full.problem is None, full.render()
    for wrong in roundtrip.wrong:
        report = roundtrip.sandboxed[wrong.student]
        by_nbgrader = {name.split(":", 1)[1]: score for name, score, _ in roundtrip.cell_scores[wrong.student]}
        assert 0 < report.score < report.max_score, report.render()
        assert [test.id for test in report.tests if test.points > by_nbgrader[test.id]] == [], report.render()
