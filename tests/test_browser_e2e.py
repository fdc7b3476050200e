"""The learner's whole loop in a real browser, against the course command's JupyterLab.

``python3 course.py start`` runs twice, for two learners (``$ASYNCIO_COURSE_STUDENT``: ann and
bob), each on a free port of 127.0.0.1 with their own workspace, sharing one class exchange
(``$ASYNCIO_COURSE_EXCHANGE``; the real ``workspace/`` and ``instructor/`` are never touched),
and with JupyterLab's settings exactly as a learner gets them (an empty settings folder: the
course's learner_screen/ decides the rest). Playwright drives Debian's Chromium
(``/usr/bin/chromium``; ``course.py test`` installs it when it can):

1. The browser opens on the course home page: a row per chapter, the course version; a
   chapter's link opens it in JupyterLab, whose Nbgrader menu has the learner's tools and no
   instructor's (formgrader, Course List, Create Assignment), and no pop-up covers the page.
2. Each learner starts chapter 1 over and fetches it in the Assignments tab. ann writes the
   reference answer to exercise 1; bob leaves it as fetched. Each runs all cells: Run All goes
   through the whole chapter (graded cells are tagged raises-exception); only the graded cells
   of unsolved exercises fail, with the placeholder's message; Check my work, the last cell,
   prints its table; ann's home page then shows 2 of 6 graded cells passing, and submitted.
   Each saves and submits; bob's Validate button shows the first failing check at once, with
   no course-internal frame.
3. The instructor grades with grade-all's code in a copy of the course directory: it
   collects, grades, records and releases both learners' feedback.
4. Each learner clicks Fetch Feedback and reads their own page: their own score, graded
   cells named by exercise; the two pages differ.

A last test answers the exercise whose run a picture draws, in chapters 7 and 10, runs the
whole chapter and sees the picture of that run on the page.

Without Chromium or Playwright the tests skip, except under CI=true, where they fail.
On failure a screenshot of the page is saved under the test's tmp path (its path
is in the failure message).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograder.batch import grade_chapter
from autograder.chapters import COURSE_DIR, REPO_ROOT, select_chapters
from autograder.release import ensure_released
from coursekit.version import course_version
from tests.graded_cells import errors_of

pytestmark = pytest.mark.slow  # left out by `course.py test --quick`

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHAPTER = "ch01_producer_consumer"
NOTEBOOK = "producer_consumer.ipynb"
SOLVED = "ch01-ex1-consumer"  # the solution cell the learner fills in
SOLVED_TESTS = {"ch01-ex1-visible", "ch01-ex1-hidden"}
PLACEHOLDER_MESSAGE = "the placeholder is still there"
PICTURE_CALL = "show_queue_depth(runs)"  # the first picture, before any exercise
LAST_CELL = "from coursekit import check_my_work"  # every chapter ends with Check my work
STARTUP_TIMEOUT = 240  # s: the first start releases every chapter (about 40 s on a quiet machine)
NOTEBOOK_OPEN_SECONDS = 120  # until a notebook shows with its kernel idle
WAIT_MS = 60_000  # ms: the longest explicit wait on the page but Run All
RUN_ALL_MS = 300_000  # ms: Run All of a whole chapter (chapter 10 is the longest)
LEARNERS = ("ann", "bob")  # ann answers exercise 1 of chapter 1; bob hands the chapter in as fetched


def unavailable(reason: str) -> None:
    """Skip; under CI=true fail instead (CI must have the browser)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser test must run in CI)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class Lab:
    """``python3 course.py start`` in a subprocess for one learner: their own workspace, the class's
    exchange, and JupyterLab's settings as a learner gets them (a fresh, empty settings folder)."""

    def __init__(self, root: Path, exchange: Path, student: str) -> None:
        self.student = student
        self.workspace = root / "workspace"
        self.exchange = exchange
        self.log_path = root / "jupyterlab.log"
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "ASYNCIO_COURSE_WORKSPACE": str(self.workspace),
            "ASYNCIO_COURSE_EXCHANGE": str(self.exchange),
            "ASYNCIO_COURSE_STUDENT": student,
            # JupyterLab's saved layouts and settings: fresh and empty, as on a learner's first start.
            "JUPYTERLAB_WORKSPACES_DIR": str(root / "lab-workspaces"),
            "JUPYTERLAB_SETTINGS_DIR": str(root / "lab-settings"),
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            sys.executable,
            str(REPO_ROOT / "course.py"),
            "start",
            "--no-browser",
            f"--ServerApp.port={self.port}",
            f"--IdentityProvider.token={self.token}",
        ]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        began = time.monotonic()
        deadline = began + STARTUP_TIMEOUT
        while not http_ok(f"{self.url}/api/status?token={self.token}"):
            if self.process.poll() is not None:
                pytest.fail(f"course.py start exited ({self.process.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {STARTUP_TIMEOUT} s:\n{self.log()}")
            time.sleep(0.25)
        self.startup_seconds = time.monotonic() - began

    def stop(self) -> None:
        """End the server's process group (this test started it, in a session of its own)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""


def reference_answer(chapter: str, notebook: str, grade_id: str) -> str:
    """The reference answer of a solution cell, as a learner would type it (no nbgrader delimiters)."""
    source = nbformat.read(REPO_ROOT / "notebooks" / chapter / notebook, as_version=4)
    cell = next(cell for cell in source.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return "\n".join(
        line for line in cell.source.splitlines() if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line
    )


def open_assignment_list(page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()


def assignment_row(page, listing: str):
    """The row of chapter 1 in one of the Assignments tab's lists (released, fetched, submitted)."""
    return page.locator(f"#{listing}_assignments_list .list_item", has_text=CHAPTER).first


# Run All is done in the notebook's panel: its kernel is idle, no cell waits ([*]), and its last code cell has run.
DONE_JS = """panel => {
  if (panel.querySelector('.jp-Notebook-ExecutionIndicator[data-status="busy"]')) return false;
  const prompts = Array.from(panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')).map(p => p.textContent);
  return prompts.length > 0 && !prompts.some(p => p.includes('*')) && /\\[\\d+\\]/.test(prompts[prompts.length - 1]);
}"""


@pytest.fixture(scope="module")
def labs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Lab]]:
    """One JupyterLab per learner (each their own workspace and id), sharing the class's exchange."""
    if not CHROMIUM.exists():
        unavailable(
            f"{CHROMIUM} is missing: `python3 course.py test` installs it as root on Debian (apt-get install chromium)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("the Python package playwright is missing (pyproject.toml pins it)")
    exchange = tmp_path_factory.mktemp("exchange")
    servers = {student: Lab(tmp_path_factory.mktemp(student), exchange, student) for student in LEARNERS}
    try:
        for server in servers.values():  # one after the other: the first start releases every chapter
            server.start()
        yield servers
    finally:
        for server in servers.values():
            server.stop()


def notebook_panel(page, notebook: str) -> Any:
    """The panel of ``notebook``'s tab, once its tab is the current one. Not "the panel that is not
    hidden": a notebook opened before (JupyterLab restores its tabs) may be hidden by content
    visibility, without Lumino's lm-mod-hidden class, and come first in the page."""
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current", has_text=notebook)
    tab.wait_for(timeout=NOTEBOOK_OPEN_SECONDS * 1000)
    return page.locator(f'.jp-NotebookPanel[aria-labelledby="{tab.get_attribute("id")}"]')


def open_notebook(page, lab: Lab, chapter: str, notebook: str) -> Any:
    """The notebook open in JupyterLab, its kernel idle (a learner's JupyterLab may first ask which
    kernel to use: the notebook's own is chosen, as a learner would)."""

    page.goto(f"{lab.url}/lab/tree/{chapter}/{notebook}?token={lab.token}")
    panel = notebook_panel(page, notebook)
    select = page.locator(".jp-Dialog").get_by_role("button", name="Select")
    idle = page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$"))
    first_cell = panel.locator(".jp-Cell").first
    # The kernel dialog may come before or after the kernel reports idle: answer it whenever it is
    # there, until the kernel has started and answered (the status bar says so) and the notebook shows.
    deadline = time.monotonic() + NOTEBOOK_OPEN_SECONDS
    while not (idle.is_visible() and first_cell.is_visible() and not select.is_visible()):
        if select.is_visible():
            select.click()
        assert time.monotonic() < deadline, (
            f"{notebook} did not open with an idle kernel in {NOTEBOOK_OPEN_SECONDS} s: kernel idle "
            f"{idle.is_visible()}, notebook panels {panel.count()}, first cell visible {first_cell.is_visible()}, "
            f"dialogs {page.locator('.jp-Dialog').all_inner_texts()}"
        )
        page.wait_for_timeout(250)
    first_cell.click()  # the notebook has the focus
    return panel


def answer_run_all_and_save(page, lab: Lab, chapter: str, notebook: str, begins: str, answer: str | None) -> Any:
    """Open the workspace's ``chapter/notebook``; if ``answer`` is given, replace the code of the
    solution cell whose code begins with ``begins`` (a regex) by it; Run All Cells, wait until the
    whole chapter has run, save; the saved notebook (every output, whatever was scrolled out of view)."""
    from playwright.sync_api import expect

    panel = open_notebook(page, lab, chapter, notebook)
    if answer is not None:
        # the solution cell: its code begins with the definition (other cells may define the same name inside)
        cell = panel.locator(".jp-CodeCell").filter(has=page.locator(".cm-content", has_text=re.compile(begins)))
        cell.locator(".cm-content").click()
        page.keyboard.press("ControlOrMeta+a")
        page.keyboard.insert_text(answer)
        expect(cell.locator(".cm-content")).not_to_contain_text("NotImplementedError")
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    page.wait_for_function(DONE_JS, arg=panel.element_handle(), timeout=RUN_ALL_MS)
    page.keyboard.press("ControlOrMeta+s")
    expect(page.locator(".jp-mod-current.jp-mod-dirty")).to_have_count(0)
    return nbformat.read(lab.workspace / chapter / notebook, as_version=4)


def text_of(cell: Any) -> str:
    return "".join(output.get("text", "") for output in cell.outputs if output.output_type == "stream")


def assert_whole_chapter_ran(notebook: Any, solved: set[str]) -> None:
    """Run All went through the whole chapter: every code cell ran; only the graded cells of the
    exercises not in ``solved`` (grade ids) show an error, the placeholder's; Check my work, last, ran."""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code), "Run All stopped before the end of the chapter"
    for cell in code:
        grading = cell.metadata.get("nbgrader", {})
        if grading.get("grade") and grading["grade_id"] not in solved:
            assert len(errors_of(cell)) == 1 and PLACEHOLDER_MESSAGE in errors_of(cell)[0], cell.source
        else:
            assert not errors_of(cell), f"unexpected error output:\n{cell.source[:200]}\n{errors_of(cell)}"
    assert code[-1].source.startswith(LAST_CELL) and "graded cells" in text_of(code[-1])


def assert_learner_screen(page, lab: Lab) -> None:
    """What a learner sees in JupyterLab: their tools, no instructor's, no pop-up over the notebook."""
    from playwright.sync_api import expect

    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    items = page.locator(".lm-Menu-content .lm-Menu-itemLabel").all_text_contents()
    page.keyboard.press("Escape")
    assert "Assignment List" in items, items
    assert not {"Formgrader", "Course List"} & set(items), f"an instructor's tool in the learner's menu: {items}"
    expect(page.locator("[title='Create Assignment'], #create_assignment_widget")).to_have_count(0)
    expect(page.locator(".Toastify__toast")).to_have_count(0)  # JupyterLab's news and update pop-ups


@contextmanager
def browser_page(lab: Lab, tmp_path: Path) -> Iterator[Any]:
    """A Chromium page; on failure, a full-page screenshot under ``tmp_path`` and the end of
    JupyterLab's log are printed with the error."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(WAIT_MS)
        expect.set_options(timeout=WAIT_MS)
        try:
            yield page
        except Exception:
            shot = tmp_path / "failure.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot: {shot}\nJupyterLab's log (end):\n{lab.log()}")
            raise
        finally:
            page.screenshot(path=str(tmp_path / "last.png"))
            browser.close()


def fetch_and_submit(page, lab: Lab, answer: str | None) -> Any:
    """The learner starts chapter 1 over (their workspace copy goes), fetches it from the Assignments
    tab, answers (or not), runs the whole chapter, saves and submits; the saved notebook."""
    from playwright.sync_api import expect

    shutil.rmtree(lab.workspace / CHAPTER)
    page.goto(f"{lab.url}/lab?token={lab.token}")
    assert_learner_screen(page, lab)
    open_assignment_list(page)
    assignment_row(page, "released").get_by_role("button", name="Fetch").click()
    expect(assignment_row(page, "fetched").get_by_role("button", name="Submit")).to_be_visible()
    saved = answer_run_all_and_save(page, lab, CHAPTER, NOTEBOOK, r"^async def consumer\(", answer)
    open_assignment_list(page)
    assignment_row(page, "fetched").get_by_role("button", name="Submit").click()
    expect(assignment_row(page, "submitted")).to_be_visible()
    return saved


def validate(page, lab: Lab, shot: Path) -> str:
    """Click the notebook's Validate button; the text of nbgrader's Validation Results dialog, whose
    first failing check must be readable without scrolling (a screenshot goes to ``shot``)."""
    from playwright.sync_api import expect

    panel = open_notebook(page, lab, CHAPTER, NOTEBOOK)
    panel.locator(".jp-Toolbar").get_by_text("Validate", exact=True).click()
    dialog = page.locator(".jp-Dialog", has_text="Validation Results")
    expect(dialog).to_be_visible(timeout=RUN_ALL_MS)  # Validate runs the whole notebook again
    expect(dialog.locator("pre", has_text=": FAILED").first).to_be_in_viewport(ratio=1)  # the whole message
    page.screenshot(path=str(shot))
    text = str(dialog.inner_text())
    dialog.get_by_role("button", name="Ok").click()
    return text


def fetch_feedback(page, lab: Lab) -> str:
    """Fetch Feedback in the Assignments tab; the text of the feedback page it brings."""
    page.goto(f"{lab.url}/lab?token={lab.token}")
    open_assignment_list(page)
    row = assignment_row(page, "submitted")
    row.get_by_role("button", name="Fetch Feedback").click()
    pages = lab.workspace / CHAPTER / "feedback"
    for _ in range(300):  # the button's request writes the page into the workspace: at most 30 s
        found = sorted(pages.glob(f"*/{Path(NOTEBOOK).stem}.html"))
        if found:
            break
        time.sleep(0.1)  # waiting for the real server's files, not timing the code under test
    assert found, f"Fetch Feedback brought nothing into {pages}"
    page.goto(f"{lab.url}/files/{found[-1].relative_to(lab.workspace)}?token={lab.token}")
    return str(page.locator("body").inner_text())


def test_learners_screen_opens_on_the_course_home_page(labs: dict[str, Lab], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    lab = labs["ann"]
    with browser_page(lab, tmp_path) as page:
        page.goto(f"{lab.url}/?token={lab.token}")  # where `course.py start` sends the browser
        assert page.url.startswith(f"{lab.url}/course"), page.url
        rows = page.locator("#chapters tr.chapter")
        assert rows.count() == len(select_chapters([])), "a row per chapter"
        assert "asyncio in Jupyter" in rows.first.inner_text() and "Exercise A" in rows.first.inner_text()
        assert f"course version {course_version()}" in page.locator("#course-version").inner_text()
        page.screenshot(path=str(tmp_path / "home.png"))
        page.goto(f"{lab.url}/lab?token={lab.token}")
        notebooks = page.locator(".jp-Launcher-section", has_text="Notebook").locator(".jp-LauncherCard")
        expect(notebooks).to_have_count(1)  # the course's kernel only
        expect(page.locator(".jp-Launcher-section", has_text="Jupytext")).to_have_count(0)
        page.goto(f"{lab.url}/course?token={lab.token}")
        rows.first.locator("a.title").click()
        page.wait_for_url(re.compile(r"/lab/tree/ch00_asyncio_in_jupyter/"))
        assert_learner_screen(page, lab)
        open_notebook(page, lab, "ch00_asyncio_in_jupyter", "asyncio_in_jupyter.ipynb")  # a kernel starts
    assert not noise_in_log(lab.log_path.read_text(errors="replace")), lab.log()


def noise_in_log(log: str) -> list[str]:
    """The warnings in JupyterLab's log that a learner could not act on. Jupyter's note that a
    fetched notebook is not trusted yet (it becomes trusted when the learner saves it) is not one."""
    return [
        line
        for line in log.splitlines()
        if ("[W " in line or "WARNING" in line or "Warning:" in line) and "is not trusted" not in line
    ]


def test_two_learners_submit_and_each_fetches_their_own_feedback(
    labs: dict[str, Lab], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann, bob = labs["ann"], labs["bob"]
    with browser_page(ann, tmp_path / "ann") as page:
        saved = fetch_and_submit(page, ann, reference_answer(CHAPTER, NOTEBOOK, SOLVED))
        assert_whole_chapter_ran(saved, SOLVED_TESTS)
        assert any(
            output.output_type == "display_data" for cell in saved.cells for output in cell.get("outputs", [])
        ), "the saved notebook has no picture"
        page.goto(f"{ann.url}/course?token={ann.token}")
        row = page.locator(f"tr.chapter[data-assignment='{CHAPTER}']")
        assert "2 of 6 graded cells pass" in row.inner_text() and "4 still fail" in row.inner_text()
        assert "yes" in row.locator("td.submitted").inner_text()
    with browser_page(bob, tmp_path / "bob") as page:
        assert_whole_chapter_ran(fetch_and_submit(page, bob, None), set())
        validation = validate(page, bob, tmp_path / "bob" / "validate.png")
        assert "consumer: consumer is implemented: FAILED" in validation
        assert "coursekit" not in validation, "no course-internal frame in what Validate shows"

    # The instructor grades the chapter with grade-all's code, in a copy of the course directory.
    course = instructor_course(tmp_path / "course")
    monkeypatch.setenv("ASYNCIO_COURSE_EXCHANGE", str(ann.exchange))
    results = {result.student: result for result in grade_chapter(CHAPTER, course_dir=course, progress=False)}
    assert set(results) == {"ann", "bob"} and all(result.feedback_released for result in results.values())
    solved_points = sum(test.points for test in results["ann"].report.tests if test.id in SOLVED_TESTS)
    assert results["ann"].report.score == solved_points > 0 and results["bob"].report.score == 0

    seen = {}
    for student, lab in labs.items():
        with browser_page(lab, tmp_path / f"{student}-feedback") as page:
            seen[student] = fetch_feedback(page, lab)
            page.screenshot(path=str(tmp_path / f"{student}-feedback.png"))
    for student, text in seen.items():
        report = results[student].report
        assert f"(Score: {report.score:.1f} / {report.max_score:.1f})" in text, text[:400]
        assert "Exercise 1" in text and "check 1 of 2" in text
    assert seen["ann"] != seen["bob"]


def instructor_course(root: Path) -> Path:
    """A throwaway copy of the instructor's course directory (its configuration and chapter 1, released)."""
    course = root / "instructor"
    course.mkdir(parents=True)
    shutil.copy2(COURSE_DIR / "nbgrader_config.py", course)
    chapter = select_chapters([CHAPTER])[0]
    shutil.copytree(
        chapter.source, root / "notebooks" / CHAPTER, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    )
    ensure_released([chapter], course)  # the release step grading needs, as `python -m autograder release` does
    return course


@dataclass(frozen=True)
class ChapterPicture:
    """A chapter run in the browser with one exercise answered: Run All goes through the whole
    chapter, and the picture of the learner's own run is on the page."""

    chapter: str
    notebook: str
    solution: str  # the grade id of the solution cell answered
    begins: str  # a regex its code begins with
    picture: str  # in the source of the cell that draws the picture
    printed: str  # in that cell's text output

    def __str__(self) -> str:
        return self.chapter


PICTURES = [
    ChapterPicture(
        "ch07_circuit_breaker",
        "circuit_breaker.ipynb",
        "ch07-ex1-circuit-breaker",
        r"^class CircuitBreaker\b",
        "show_breaker_states(both",
        "your CircuitBreaker: ",
    ),
    ChapterPicture(
        "ch10_resilient_client",
        "resilient_client.ipynb",
        "ch10-ex1-resilient-client",
        r"^class ResilientClient\b",
        "show_dashboard(",
        "your ResilientClient: ",
    ),
]


@pytest.mark.parametrize("case", PICTURES, ids=str)
def test_learner_sees_the_picture_of_their_own_run(case: ChapterPicture, labs: dict[str, Lab], tmp_path: Path) -> None:
    lab = labs["ann"]
    answer = reference_answer(case.chapter, case.notebook, case.solution)
    with browser_page(lab, tmp_path) as page:
        saved = answer_run_all_and_save(page, lab, case.chapter, case.notebook, case.begins, answer)
        solved = {
            cell.metadata["nbgrader"]["grade_id"]
            for cell in saved.cells
            if cell.metadata.get("nbgrader", {}).get("grade") and not errors_of(cell)
        }
        assert_whole_chapter_ran(saved, solved)
        picture = next(cell for cell in saved.cells if cell.cell_type == "code" and case.picture in cell.source)
        assert any(output.output_type == "display_data" for output in picture.outputs), picture.source
        assert case.printed in text_of(picture)
        shown = page.locator(".jp-CodeCell").filter(has=page.locator(".cm-content", has_text=case.picture))
        shown.scroll_into_view_if_needed()
        image = shown.locator(".jp-OutputArea-output img").first
        assert image.evaluate("img => img.naturalWidth") > 100, "the picture is not drawn on the page"
        shown.screenshot(path=str(tmp_path / f"{case.chapter}.png"))
