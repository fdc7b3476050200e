"""The learner's whole path in a real browser, against the course command's JupyterLab.

``python3 course.py start`` runs in a subprocess on a free port of 127.0.0.1, with
its own workspace and exchange (``$ASYNCIO_COURSE_WORKSPACE``,
``$ASYNCIO_COURSE_EXCHANGE``: the learner's real ``workspace/`` and the course's
``autograder/exchange/`` are never touched). Playwright drives Debian's Chromium
(``/usr/bin/chromium``; ``course.py test`` installs it when it can) through what a
learner does:

1. Assignments tab (nbgrader's assignment list): chapter 1 is offered; Fetch it
   (its workspace copy was deleted first, as a learner starting over would).
2. Open ``ch01_producer_consumer/producer_consumer.ipynb``, write the reference
   answer to exercise 1 into its solution cell, Run All Cells.
3. What the page shows, precisely (what "no error output" means for a release):
   Run All stops at the first failing cell, and on a release with exercise 1
   solved that is exercise 2's visible check (its ``raise NotImplementedError()``
   placeholder is still there). So every code cell before it has run, the
   queue-depth picture (an ``<img>``) is in the output of the cell that draws it,
   exercise 1's checks show their ✓ lines, and no cell shows error output
   (JupyterLab renders tracebacks and stderr alike as
   ``application/vnd.jupyter.stderr``) except exercise 2's check, whose error is
   the placeholder message; no cell after it has run or shows output.
4. Save, then Submit in the Assignments tab; the submission lands in the exchange.
5. The instructor's side: ``nbgrader collect`` into a throwaway copy of the course
   directory, then the command-line grade of the collected notebook
   (``python -m autograder grade PATH --json``). It must match what the browser showed:
   exercise 1's two test cells full marks, every other test cell 0.

A second test opens other chapters in the same JupyterLab (chapter 7: the breaker-state
picture; chapter 10: the dashboard), answers the exercise whose run the picture draws with the reference, runs all
cells, and sees the picture of that run next to the reference's.

Without Chromium or Playwright the tests skip, except under CI=true, where they fail.
On failure a screenshot of the page is saved under the test's tmp path (its path
is in the failure message).
"""

from __future__ import annotations

import json
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

from autograder.chapters import COURSE_DIR, REPO_ROOT, select_chapters
from autograder.exchange import COURSE_ID
from autograder.nbgrader_run import generate_assignment, nbgrader, tools_env

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
FIRST_FAILING = "ch01-ex2-visible"  # where Run All stops: exercise 2 is still a placeholder
PLACEHOLDER_MESSAGE = "the placeholder is still there"
PICTURE_CALL = "show_queue_depth(runs)"  # the first picture, before any exercise
STARTUP_TIMEOUT = 240  # s: the first start releases every chapter (about 40 s on a quiet machine)
WAIT_MS = 60_000  # ms: the longest explicit wait on the page but Run All
RUN_ALL_MS = 240_000  # ms: Run All up to where it stops (most of chapter 10)


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
    """``python3 course.py start`` in a subprocess, with its own workspace and exchange."""

    def __init__(self, root: Path) -> None:
        self.workspace = root / "workspace"
        self.exchange = root / "exchange"
        self.log_path = root / "jupyterlab.log"
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "ASYNCIO_COURSE_WORKSPACE": str(self.workspace),
            "ASYNCIO_COURSE_EXCHANGE": str(self.exchange),
            # JupyterLab's saved layouts and settings: fresh ones, not the user's.
            "JUPYTERLAB_WORKSPACES_DIR": str(root / "lab-workspaces"),
            "JUPYTERLAB_SETTINGS_DIR": str(root / "lab-settings"),
        }
        self.process: subprocess.Popen | None = None
        # Every cell stays in the DOM (JupyterLab's default windowing detaches the cells
        # scrolled out of view, so their outputs could not be read), the notebook's kernel
        # starts without a "Select Kernel" dialog (shown when the kernel list comes late),
        # and no news toast.
        settings = root / "lab-settings" / "@jupyterlab"
        for name, text in (
            ("notebook-extension/tracker", '{"windowingMode": "none", "autoStartDefaultKernel": true}'),
            ("apputils-extension/notification", '{"fetchNews": "false"}'),
        ):
            (settings / f"{name}.jupyterlab-settings").parent.mkdir(parents=True, exist_ok=True)
            (settings / f"{name}.jupyterlab-settings").write_text(text)

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


# What each code cell of the open notebook shows, read from the DOM.
CELLS_JS = """() => Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell'))
  .map(cell => ({
    code: cell.classList.contains('jp-CodeCell'),
    source: cell.querySelector('.cm-content')?.innerText ?? '',
    prompt: cell.querySelector('.jp-InputArea-prompt')?.innerText.trim() ?? '',
    errors: Array.from(cell.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
      .map(node => node.innerText),
    text: Array.from(cell.querySelectorAll('.jp-OutputArea-output')).map(node => node.innerText).join('\\n'),
    outputs: cell.querySelectorAll('.jp-OutputArea-output').length,
    images: Array.from(cell.querySelectorAll('.jp-OutputArea-output img'))
      .map(img => ({src: img.src.slice(0, 22), width: img.naturalWidth})),
  }))"""

# Run All is done: the kernel is idle, no cell waits ([*]), and the cell where it stops has run.
DONE_JS = """(marker) => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel || panel.querySelector('.jp-Notebook-ExecutionIndicator[data-status="busy"]')) return false;
  const prompts = Array.from(panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')).map(p => p.innerText);
  if (prompts.some(p => p.includes('*'))) return false;
  const stop = Array.from(panel.querySelectorAll('.jp-CodeCell'))
    .find(cell => (cell.querySelector('.cm-content')?.innerText ?? '').trim().split('\\n')[0].trim() === marker);
  return !!stop && /\\[\\d+\\]/.test(stop.querySelector('.jp-InputArea-prompt').innerText);
}"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory):
    """One JupyterLab for the module's tests (each works on its own chapter)."""
    if not CHROMIUM.exists():
        unavailable(
            f"{CHROMIUM} is missing: `python3 course.py test` installs it as root on Debian (apt-get install chromium)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("the Python package playwright is missing (pyproject.toml pins it)")
    server = Lab(tmp_path_factory.mktemp("lab"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


def answer_and_run_all(page, lab: Lab, chapter: str, notebook: str, begins: str, answer: str, stop: str) -> list[dict]:
    """Open the workspace's ``chapter/notebook``, replace the code of the solution cell whose code
    begins with ``begins`` (a regex) by ``answer``, Run All Cells, wait until Run All has stopped at
    the cell whose first line is ``stop``; what each code cell shows
    (:data:`CELLS_JS`)."""
    from playwright.sync_api import expect

    page.goto(f"{lab.url}/lab/tree/{chapter}/{notebook}?token={lab.token}")
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    expect(panel.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')).to_be_attached()
    # the solution cell: its code begins with the definition (other cells may define the same name inside)
    cell = panel.locator(".jp-CodeCell").filter(has=page.locator(".cm-content", has_text=re.compile(begins)))
    cell.locator(".cm-content").click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(answer)
    expect(cell.locator(".cm-content")).not_to_contain_text("NotImplementedError")
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    page.wait_for_function(DONE_JS, arg=stop, timeout=RUN_ALL_MS)
    return [cell for cell in page.evaluate(CELLS_JS) if cell["code"]]


def first_line(cell: dict) -> str:
    """The first line of a code cell's source, as the page shows it."""
    return cell["source"].strip().split("\n")[0].strip()


def assert_ran_cleanly_up_to(cells: list[dict], stop: str) -> None:
    """Every code cell before the one whose first line is ``stop`` ran without error output; ``stop``
    shows the placeholder's message, and no cell after it ran."""
    index = next(i for i, cell in enumerate(cells) if first_line(cell) == stop)
    for cell in cells[:index]:
        assert cell["prompt"].startswith("[") and cell["prompt"][1:-2].isdigit(), cell
        assert not cell["errors"], f"unexpected error output:\n{cell['source'][:200]}\n{cell['errors']}"
    assert len(cells[index]["errors"]) == 1 and PLACEHOLDER_MESSAGE in cells[index]["errors"][0], cells[index]
    for cell in cells[index + 1 :]:
        assert cell["outputs"] == 0 and not cell["prompt"].strip("[]: "), cell


def assert_shows_picture(cells: list[dict], call: str, printed: str = "") -> None:
    """The cell whose source contains ``call`` shows a PNG picture, and ``printed`` in its text."""
    picture = next(cell for cell in cells if call in cell["source"])
    assert picture["images"] and picture["images"][0]["src"].startswith("data:image/png"), picture
    assert picture["images"][0]["width"] > 100, picture
    assert printed in picture["text"], picture


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


def test_learner_fetches_runs_and_submits_chapter_1_and_the_grade_matches(lab: Lab, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    timings: dict[str, float] = {"course.py start": lab.startup_seconds}
    started = time.monotonic()
    # The learner starts chapter 1 over: its workspace copy goes, the exchange still offers it.
    shutil.rmtree(lab.workspace / CHAPTER)

    with browser_page(lab, tmp_path) as page:
        page.goto(f"{lab.url}/lab?token={lab.token}")
        expect(page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader")).to_be_visible()

        # 1. Assignments tab: fetch chapter 1.
        open_assignment_list(page)
        released = assignment_row(page, "released")
        released.get_by_role("button", name="Fetch").click()
        expect(assignment_row(page, "fetched").get_by_role("button", name="Submit")).to_be_visible()
        assert (lab.workspace / CHAPTER / NOTEBOOK).is_file()
        timings["fetched"] = time.monotonic() - started

        # 2. Open the notebook, answer exercise 1, run all cells.
        stop_marker = "check_run_pipeline(run_pipeline)"
        cells = answer_and_run_all(
            page,
            lab,
            CHAPTER,
            NOTEBOOK,
            r"^async def consumer\(",
            reference_answer(CHAPTER, NOTEBOOK, SOLVED),
            stop_marker,
        )
        timings["ran"] = time.monotonic() - started

        # 3. What the page shows.
        assert_shows_picture(cells, PICTURE_CALL)
        assert_ran_cleanly_up_to(cells, stop_marker)
        checks = [cell for cell in cells if cell["source"].lstrip().startswith("check_consumer(consumer")]
        assert len(checks) == 2 and all("✓ consumer runs to the end" in cell["text"] for cell in checks), checks

        # 4. Save, then submit from the Assignments tab.
        page.keyboard.press("ControlOrMeta+s")
        expect(page.locator(".jp-mod-current.jp-mod-dirty")).to_have_count(0)
        saved = nbformat.read(lab.workspace / CHAPTER / NOTEBOOK, as_version=4)
        assert any(
            output.get("output_type") == "display_data" for cell in saved.cells for output in cell.get("outputs", [])
        ), "the saved notebook has no picture"
        open_assignment_list(page)
        assignment_row(page, "fetched").get_by_role("button", name="Submit").click()
        expect(assignment_row(page, "submitted")).to_be_visible()
        timings["submitted"] = time.monotonic() - started

    inbound = list((lab.exchange / COURSE_ID / "inbound").glob(f"*+{CHAPTER}+*"))
    assert len(inbound) == 1, inbound
    submitted = nbformat.read(inbound[0] / NOTEBOOK, as_version=4)
    assert "raise NotImplementedError()" not in next(
        cell.source for cell in submitted.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == SOLVED
    )

    # 5. The instructor collects the submission from the exchange into a throwaway copy of
    #    the course directory, and grades it with `python -m autograder grade PATH --json`.
    collected = collect(tmp_path / "course", lab.exchange)
    graded_by, cell_scores = grade(collected)
    timings["graded"] = time.monotonic() - started
    print("timings (s; after start, from the browser's launch):", {step: round(t, 1) for step, t in timings.items()})
    print(f"graded by {graded_by}: {cell_scores}")
    assert set(cell_scores) >= SOLVED_TESTS | {FIRST_FAILING}, cell_scores
    assert all(score == (maximum if name in SOLVED_TESTS else 0.0) for name, (score, maximum) in cell_scores.items()), (
        cell_scores
    )


def collect(root: Path, exchange: Path) -> Path:
    """``nbgrader collect`` chapter 1 into a copy of the course; the collected notebook."""
    course = root / "autograder"
    course.mkdir(parents=True)
    shutil.copy2(COURSE_DIR / "nbgrader_config.py", course)
    chapter = select_chapters([CHAPTER])[0]
    shutil.copytree(
        chapter.source, root / "notebooks" / CHAPTER, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    )
    generate_assignment(CHAPTER, course_dir=course)  # records the chapter's cells in this gradebook
    nbgrader("collect", CHAPTER, f"--Exchange.root={exchange}", course_dir=course)
    collected = list((course / "submitted").glob(f"*/{CHAPTER}/{NOTEBOOK}"))
    assert len(collected) == 1, collected
    return collected[0]


def grade(notebook: Path) -> tuple[str, dict[str, tuple[float, float]]]:
    """Each test cell's (score, max_score) for the collected ``notebook``, from the grade command."""
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(notebook), "--json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=tools_env(),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["chapter"] == CHAPTER, report
    cells = {test["id"]: (float(test["points"]), float(test["max_points"])) for test in report["tests"]}
    assert (report["score"], report["max_score"]) == (
        sum(s for s, _ in cells.values()),
        sum(m for _, m in cells.values()),
    ), report
    return "python -m autograder grade", cells


@dataclass(frozen=True)
class ChapterPicture:
    """A chapter run in the browser with one exercise answered: Run All stops at the next
    exercise's placeholder, and the picture of the learner's own run is on the page."""

    chapter: str
    notebook: str
    solution: str  # the grade id of the solution cell answered
    begins: str  # a regex its code begins with
    picture: str  # in the source of the cell that draws the picture
    printed: str  # in that cell's text output
    stop: str  # the first line of the cell where Run All stops (the next exercise's check)

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
        "check_protected(protected)",
    ),
    ChapterPicture(
        "ch10_resilient_client",
        "resilient_client.ipynb",
        "ch10-ex1-resilient-client",
        r"^class ResilientClient\b",
        "show_dashboard(",
        "your ResilientClient: ",
        "check_admit_links(admit_links)",
    ),
]


@pytest.mark.parametrize("case", PICTURES, ids=str)
def test_learner_sees_the_picture_of_their_own_run(case: ChapterPicture, lab: Lab, tmp_path: Path) -> None:
    answer = reference_answer(case.chapter, case.notebook, case.solution)
    with browser_page(lab, tmp_path) as page:
        cells = answer_and_run_all(page, lab, case.chapter, case.notebook, case.begins, answer, case.stop)
        assert_ran_cleanly_up_to(cells, case.stop)
        assert_shows_picture(cells, case.picture, case.printed)
