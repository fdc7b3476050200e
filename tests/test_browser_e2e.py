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

Without Chromium or Playwright the test skips, except under CI=true, where it fails.
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
from pathlib import Path

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
STARTUP_TIMEOUT = 90  # s: first start releases the chapters (about 20 s)
WAIT_MS = 60_000  # ms: the longest explicit wait on the page


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


def solution_text() -> str:
    """Exercise 1's reference answer, as a learner would type it (no nbgrader delimiters)."""
    source = nbformat.read(REPO_ROOT / "notebooks" / CHAPTER / NOTEBOOK, as_version=4)
    cell = next(cell for cell in source.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == SOLVED)
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
    .find(cell => (cell.querySelector('.cm-content')?.innerText ?? '').trim() === marker);
  return !!stop && /\\[\\d+\\]/.test(stop.querySelector('.jp-InputArea-prompt').innerText);
}"""


@pytest.fixture
def lab(tmp_path: Path):
    if not CHROMIUM.exists():
        unavailable(
            f"{CHROMIUM} is missing: `python3 course.py test` installs it as root on Debian (apt-get install chromium)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("the Python package playwright is missing (pyproject.toml pins it)")
    server = Lab(tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_learner_fetches_runs_and_submits_chapter_1_and_the_grade_matches(lab: Lab, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    timings: dict[str, float] = {"course.py start": lab.startup_seconds}
    started = time.monotonic()
    # The learner starts chapter 1 over: its workspace copy goes, the exchange still offers it.
    shutil.rmtree(lab.workspace / CHAPTER)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(WAIT_MS)
        expect.set_options(timeout=WAIT_MS)
        try:
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
            page.goto(f"{lab.url}/lab/tree/{CHAPTER}/{NOTEBOOK}?token={lab.token}")
            notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
            expect(notebook.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')).to_be_attached()
            # the solution cell: its code begins with the definition (other cells define consumers inside)
            answer = notebook.locator(".jp-CodeCell").filter(
                has=page.locator(".cm-content", has_text=re.compile(r"^async def consumer\("))
            )
            answer.locator(".cm-content").click()
            page.keyboard.press("ControlOrMeta+a")
            page.keyboard.insert_text(solution_text())
            expect(answer.locator(".cm-content")).not_to_contain_text("NotImplementedError")
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
            stop_marker = "check_run_pipeline(run_pipeline)"
            page.wait_for_function(DONE_JS, arg=stop_marker, timeout=WAIT_MS)
            timings["ran"] = time.monotonic() - started

            # 3. What the page shows.
            cells = [cell for cell in page.evaluate(CELLS_JS) if cell["code"]]
            stop = next(i for i, cell in enumerate(cells) if cell["source"].strip() == stop_marker)
            picture = next(cell for cell in cells if PICTURE_CALL in cell["source"])
            assert picture["images"] and picture["images"][0]["src"].startswith("data:image/png"), picture
            assert picture["images"][0]["width"] > 100, picture
            for cell in cells[:stop]:
                assert cell["prompt"].startswith("[") and cell["prompt"][1:-2].isdigit(), cell
                assert not cell["errors"], f"unexpected error output:\n{cell['source'][:200]}\n{cell['errors']}"
            checks = [cell for cell in cells if cell["source"].lstrip().startswith("check_consumer(consumer")]
            assert len(checks) == 2 and all("✓ consumer runs to the end" in cell["text"] for cell in checks), checks
            assert len(cells[stop]["errors"]) == 1 and PLACEHOLDER_MESSAGE in cells[stop]["errors"][0], cells[stop]
            for cell in cells[stop + 1 :]:
                assert cell["outputs"] == 0 and not cell["prompt"].strip("[]: "), cell

            # 4. Save, then submit from the Assignments tab.
            page.keyboard.press("ControlOrMeta+s")
            expect(page.locator(".jp-mod-current.jp-mod-dirty")).to_have_count(0)
            saved = nbformat.read(lab.workspace / CHAPTER / NOTEBOOK, as_version=4)
            assert any(
                output.get("output_type") == "display_data"
                for cell in saved.cells
                for output in cell.get("outputs", [])
            ), "the saved notebook has no picture"
            open_assignment_list(page)
            assignment_row(page, "fetched").get_by_role("button", name="Submit").click()
            expect(assignment_row(page, "submitted")).to_be_visible()
            timings["submitted"] = time.monotonic() - started
        except Exception:
            shot = tmp_path / "failure.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot: {shot}\nJupyterLab's log (end):\n{lab.log()}")
            raise
        finally:
            page.screenshot(path=str(tmp_path / "last.png"))
            browser.close()

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
