"""A class on the hub in a real browser: one instructor and three learners, logged in at once.

``course.py hub`` starts for real (root, throwaway accounts with a random prefix, its own state
folder, 127.0.0.1 on a free port, chapter 1 published). Playwright drives Debian's Chromium
(``/usr/bin/chromium``), one browser context per person, all four signed in at the same time,
each through the hub's own pages: sign-up (NativeAuthenticator's form), then log-in.

1. Each learner's server starts from the log-in (the hub's spawn page) and opens on the course
   home page. Each learner fetches chapter 1 in JupyterLab's Assignments tab (their workspace's
   copy is removed first, as ``test_browser_e2e`` does). ann pastes the reference answers of its
   three exercises, bob hands it in as fetched, and eve writes a consumer that does nothing,
   followed by code that tries to read ann's and bob's files: their homes, workspaces, notebooks
   and their submissions in the exchange, by their exact folder names (the test reads them, as
   root, once ann and bob have handed in). eve runs that cell in her own kernel, so as her own
   account: every attempt is refused (PermissionError), on her page.
2. The instructor, logged in, opens the grading server through the hub (formgrader's Manage
   Assignments), sets the chapter's due date there (formgrader's API, the instructor's session;
   a date already past) and, from that page, opens a terminal on the grading server (the hub's service
   ``asyncio-course``, the grader account) and runs ``python -m autograder grade-all`` there: it
   collects the three submissions, grades them in the sandbox, and releases each learner's
   feedback. Its scratch folders are in the hub's state folder (the grading server's ``TMPDIR``),
   not in /tmp. The instructor's account reads ``grades.csv``: the due date, and each submission
   marked late, not penalized.
   (Found so: the terminal was a login shell without the course's ``python``, hub/singleuser.py;
   and kernels died at random under the grader account's process cap, autograder/sandbox.py.)
3. Each learner clicks Fetch Feedback and reads their own page: their own score (ann full marks,
   bob and eve none). eve's page shows her code's attempts as graded, in the sandbox: each
   failed too (the files are not there). formgrader's gradebook, read with the instructor's
   session, has the same three scores.
4. Through the hub, each learner's session is refused (403) a classmate's server: eve's asking
   for ann's and bob's workspace (contents API), notebook and feedback page (files), and ann's
   and bob's for each other's feedback page. From her own account (runuser), ann can neither list
   the exchange's feedback folder nor read bob's page in his workspace.

A fast test: a sandbox of an ordinary account (the hub's grader) may start processes beyond
what the account already runs.

On failure every page's screenshot is saved under the test's tmp path (named in the output), with
the end of the hub's log.
"""

from __future__ import annotations

import csv
import json
import os
import pwd
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
import pytest

from autograder.cluster import notebooks_at_once
from autograder.sandbox import Limits, process_cap
from hub.accounts import ids
from tests.class_hub import class_hub, skip_unless_a_hub_can_run
from tests.test_browser_e2e import (
    CHAPTER,
    CHROMIUM,
    CHROMIUM_ARGS,
    NOTEBOOK,
    WAIT_MS,
    Lab,
    assignment_row,
    fetch_feedback,
    open_assignment_list,
    open_notebook,
    reference_answer,
    unavailable,
)
from tests.test_hub import Hub, as_user

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = pytest.mark.hub

PASSWORD = "a-test-only-Passw0rd-" + secrets.token_hex(4)  # throwaway accounts of this test only
INSTRUCTOR, SOLVER, WRONG, PEEKER = "teach", "ann", "bob", "eve"
ROSTER = f"""\
[[instructor]]
username = "{INSTRUCTOR}"
""" + "".join(f'\n[[learner]]\nusername = "{name}"\n' for name in (SOLVER, WRONG, PEEKER))
SOLUTIONS = {  # ch01's solution cells: the regex their code begins with, their grade id
    r"^async def consumer\(": "ch01-ex1-consumer",
    r"^async def run_pipeline\(": "ch01-ex2-run-pipeline",
    r"^async def serve\(": "ch01-ex3-serve",
}
SERVICE = "/services/asyncio-course/"
GRADED = "GRADING" + "-ENDED"  # the terminal echoes the command typed; only the shell's output joins the two
SPAWN_SECONDS = 120
DUE = "2026-01-01 12:00:00"  # the chapter's due date: every submission of the test is late


class HubServer(Lab):
    """A person's server on the hub, as test_browser_e2e's helpers use a Lab: its address through the
    hub (the browser context's hub cookie signs in: no token) and its workspace (read as root)."""

    def __init__(self, hub: Hub, user: str) -> None:
        self.student = user
        self.url = f"{hub.url}/user/{user}"
        self.token = ""
        self.workspace = home(user) / "workspace"
        self.log_path = hub.log
        self.process = None


def home(user: str) -> Path:
    return Path(os.path.expanduser(f"~{user}"))


@pytest.fixture(scope="module")
def hub() -> Iterator[Hub]:
    """The hub of the class of four, chapter 1 published (tests/class_hub.py: taken away after)."""
    skip_unless_a_hub_can_run()
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing: `python3 course.py test` installs it as root on Debian")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("the Python package playwright is missing (pyproject.toml pins it)")
    started = time.monotonic()
    with class_hub(ROSTER, "--chapters", CHAPTER, prefix_letter="b") as running:
        print(f"\nthe hub answered {time.monotonic() - started:.1f} s after `course.py hub` started")
        yield running


@contextmanager
def people(hub: Hub, tmp_path: Path) -> Iterator[dict[str, BrowserContext]]:
    """A browser context per person (by role name: teach, ann, bob, eve), all in one Chromium; on
    failure a screenshot of each one's page under ``tmp_path`` and the end of the hub's log."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        contexts = {}
        for name in (INSTRUCTOR, SOLVER, WRONG, PEEKER):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(WAIT_MS)
            context.new_page()
            contexts[name] = context
        expect.set_options(timeout=WAIT_MS)
        try:
            yield contexts
        except Exception:
            for name, context in contexts.items():
                shot = tmp_path / f"{name}-failure.png"
                context.pages[-1].screenshot(path=str(shot), full_page=True)
                print(f"screenshot of {name}'s page ({context.pages[-1].url}): {shot}")
            print(f"the hub's log (end):\n{hub.log.read_text(errors='replace')[-4000:]}")
            raise
        finally:
            browser.close()


def page_of(context: BrowserContext) -> Page:
    return context.pages[-1]


def sign_up_and_log_in(hub: Hub, page: Page, user: str, then: str = "") -> None:
    """Through the hub's pages: sign up with the roster name, then log in (to ``then``, if given).
    A learner's log-in starts their server (the hub's spawn page) and returns without waiting for it."""
    from playwright.sync_api import expect

    page.goto(f"{hub.url}/hub/signup")
    page.locator("#username_input").fill(user)
    page.locator("#password_input").fill(PASSWORD)
    page.locator("#password_confirmation_input").fill(PASSWORD)
    page.locator("#signup_submit").click()
    expect(page.get_by_text("The signup was successful")).to_be_visible()
    page.goto(f"{hub.url}/hub/login" + (f"?next={then}" if then else ""))
    page.locator("#username_input").fill(user)
    page.locator("#password_input").fill(PASSWORD)
    page.locator("#login_submit").click()
    page.wait_for_url(lambda url: "/hub/login" not in url)


def fetch_chapter(page: Page, lab: HubServer) -> None:
    """Chapter 1 from the Assignments tab, into a workspace that no longer has it."""
    from playwright.sync_api import expect

    shutil.rmtree(lab.workspace / CHAPTER)  # the server copied it there at its start
    page.goto(f"{lab.url}/lab")
    open_assignment_list(page)
    assignment_row(page, "released").get_by_role("button", name="Fetch").click()
    expect(assignment_row(page, "fetched").get_by_role("button", name="Submit")).to_be_visible()


def write_cells(page: Page, panel: Any, answers: dict[str, str]) -> None:
    """Replace the code of each solution cell (found by the regex its code begins with) by the
    answer, as a learner types it; then save."""
    from playwright.sync_api import expect

    for begins, answer in answers.items():
        cell = panel.locator(".jp-CodeCell").filter(has=page.locator(".cm-content", has_text=re.compile(begins)))
        cell.locator(".cm-content").click()
        page.keyboard.press("ControlOrMeta+a")
        page.keyboard.insert_text(answer)
    page.keyboard.press("ControlOrMeta+s")
    expect(page.locator(".jp-mod-current.jp-mod-dirty")).to_have_count(0)


def submit(page: Page, lab: HubServer) -> None:
    from playwright.sync_api import expect

    page.goto(f"{lab.url}/lab")
    open_assignment_list(page)
    assignment_row(page, "fetched").get_by_role("button", name="Submit").click()
    expect(assignment_row(page, "submitted")).to_be_visible()


def peeking_code(targets: dict[str, Path]) -> str:
    """eve's answer to exercise 1: a consumer that does nothing, then an attempt at each target
    (list a folder, read a file), printing what it got: ``READ ...`` or the error's type."""
    return f"""async def consumer(queue, handle):
    return None


import os

for label, path in {json.dumps({label: str(path) for label, path in targets.items()})}.items():
    try:
        got = sorted(os.listdir(path)) if os.path.isdir(path) else open(path, "rb").read(60)
        print(f"PEEK {{label}}: READ {{got!r}}")
    except OSError as error:
        print(f"PEEK {{label}}: {{type(error).__name__}}")
print("PEEK end")"""


def peeks(text: str) -> dict[str, str]:
    """What eve's code printed for each target."""
    return dict(re.findall(r"PEEK ([\w-]+): (.*)", text))


def grade_in_the_grading_servers_terminal(page: Page, command: str) -> str:
    """From the instructor's page on the grading server: a terminal there (its REST API and its
    websocket, through the hub, with the page's own session), ``command`` typed in it; what the
    terminal showed until the command ended. The terminal is closed after."""
    return str(
        page.evaluate(
            """async ([command, marker]) => {
  const base = location.pathname.slice(0, location.pathname.indexOf('/formgrader'));
  const xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || '';
  const headers = {'X-XSRFToken': decodeURIComponent(xsrf)};
  const made = await fetch(`${base}/api/terminals`, {method: 'POST', headers});
  if (!made.ok) return `no terminal: ${made.status} ${await made.text()}`;
  const name = (await made.json()).name;
  const shown = await new Promise(resolve => {
    const socket = new WebSocket(`ws://${location.host}${base}/terminals/websocket/${name}`);
    let text = '';
    socket.onopen = () => socket.send(JSON.stringify(['stdin', command + '\\r']));
    socket.onmessage = event => {
      const [kind, data] = JSON.parse(event.data);
      if (kind === 'stdout') text += data;
      if (new RegExp(marker + ' \\\\d+').test(text)) { socket.close(); resolve(text); }
    };
    socket.onclose = () => resolve(text);
  });
  await fetch(`${base}/api/terminals/${name}`, {method: 'DELETE', headers});
  return shown;
}""",
            [command, GRADED],
        )
    )


def set_due_date(instructor: BrowserContext, hub: Hub, due: str) -> None:
    """The chapter's due date (UTC), set through formgrader's API with the instructor's session."""
    cookies = instructor.cookies(hub.url + SERVICE)
    xsrf = next((cookie["value"] for cookie in cookies if cookie["name"] == "_xsrf"), None)
    assert xsrf, f"no _xsrf cookie for {SERVICE}: {[(c['name'], c.get('path')) for c in cookies]}"
    dated = instructor.request.put(
        f"{hub.url}{SERVICE}formgrader/api/assignment/{CHAPTER}",
        data=json.dumps({"duedate_notimezone": due, "duedate_timezone": "UTC"}),
        headers={"X-XSRFToken": xsrf, "Content-Type": "application/json"},
    )
    assert dated.status == 200 and dated.json()["display_duedate"] == f"{due} UTC", dated.text()


def score(text: str) -> str:
    found = re.search(r"\(Score: ([0-9.]+) / ([0-9.]+)\)", text)
    assert found, f"the feedback page shows no score: {text[:400]}"
    return f"{float(found[1]):g}/{float(found[2]):g}"


def test_an_instructor_and_three_learners_in_the_browser(hub: Hub, tmp_path: Path) -> None:
    began = time.monotonic()
    names = {role: hub.accounts.prefix + role for role in (INSTRUCTOR, SOLVER, WRONG, PEEKER)}
    labs = {role: HubServer(hub, names[role]) for role in (SOLVER, WRONG, PEEKER)}
    timings: dict[str, float] = {}

    def lap(what: str) -> None:
        timings[what] = time.monotonic() - began - sum(timings.values())

    with people(hub, tmp_path) as contexts:
        pages = {role: page_of(context) for role, context in contexts.items()}
        # Everyone signs up and logs in; the learners' servers start meanwhile, all at once.
        for role in (SOLVER, WRONG, PEEKER):
            sign_up_and_log_in(hub, pages[role], names[role])
        sign_up_and_log_in(hub, pages[INSTRUCTOR], names[INSTRUCTOR], then=SERVICE)
        assert "/formgrader/manage_assignments" in pages[INSTRUCTOR].url, pages[INSTRUCTOR].url
        set_due_date(contexts[INSTRUCTOR], hub, DUE)
        for role, lab in labs.items():
            pages[role].wait_for_url(re.compile(re.escape(lab.url) + "/course"), timeout=SPAWN_SECONDS * 1000)
            assert (
                "yes" not in pages[role].locator(f"tr.chapter[data-assignment='{CHAPTER}'] td.submitted").inner_text()
            )
        lap("sign-up, log-in, three servers started")

        # Each learner fetches chapter 1; ann answers it all, bob leaves it as fetched.
        for role, lab in labs.items():
            fetch_chapter(pages[role], lab)
        panel = open_notebook(pages[SOLVER], labs[SOLVER], CHAPTER, NOTEBOOK)
        answers = {begins: reference_answer(CHAPTER, NOTEBOOK, grade_id) for begins, grade_id in SOLUTIONS.items()}
        write_cells(pages[SOLVER], panel, answers)
        saved = nbformat.read(labs[SOLVER].workspace / CHAPTER / NOTEBOOK, as_version=4)
        written = [cell.source for cell in saved.cells if cell.metadata.get("nbgrader", {}).get("solution")]
        assert written == list(answers.values()), written
        submit(pages[SOLVER], labs[SOLVER])
        submit(pages[WRONG], labs[WRONG])
        lap("fetched by three, answered and handed in by two")

        # eve, knowing where her classmates' files are (their submissions by their exact names),
        # runs code that reads them, in her own kernel (her own account), and hands it in.
        inbound = hub.state / "exchange" / "asyncio-course" / "inbound"
        handed_in = {entry.name.split("+")[0]: entry for entry in inbound.iterdir()}
        assert set(handed_in) == {names[SOLVER], names[WRONG]}, handed_in
        secret = home(names[SOLVER]) / "secret.txt"
        secret.write_text("ann's secret\n", encoding="utf-8")
        secret.chmod(0o644)
        os.chown(secret, *ids(names[SOLVER]))
        targets = {"inbound": inbound}
        for role in (SOLVER, WRONG):
            targets |= {
                f"{role}-home": home(names[role]),
                f"{role}-workspace": labs[role].workspace,
                f"{role}-notebook": labs[role].workspace / CHAPTER / NOTEBOOK,
                f"{role}-submission": handed_in[names[role]],
                f"{role}-submitted-notebook": handed_in[names[role]] / NOTEBOOK,
            }
        targets["ann-secret"] = secret
        page = pages[PEEKER]
        panel = open_notebook(page, labs[PEEKER], CHAPTER, NOTEBOOK)
        write_cells(page, panel, {r"^async def consumer\(": peeking_code(targets)})
        cell = panel.locator(".jp-CodeCell").filter(has=page.locator(".cm-content", has_text="PEEK end"))
        cell.locator(".cm-content").click()
        page.keyboard.press("ControlOrMeta+Enter")
        output = cell.locator(".jp-OutputArea-output")
        output.filter(has_text="PEEK end").wait_for()
        in_her_kernel = peeks(output.inner_text())
        assert all(in_her_kernel.get(label) == "PermissionError" for label in targets), in_her_kernel
        page.keyboard.press("ControlOrMeta+s")
        submit(page, labs[PEEKER])
        lap("eve's attempts, in her kernel, and her hand-in")

        # The instructor grades in the grading server's terminal, through the hub; feedback is released.
        scratch = hub.state / "scratch"  # the grading server's TMPDIR (hub/jupyterhub_config.py)
        command = f"echo $TMPDIR; python -m autograder grade-all {CHAPTER}; echo {GRADED[:7]}''{GRADED[7:]} $?"
        shown = grade_in_the_grading_servers_terminal(pages[INSTRUCTOR], command)
        plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown).replace("\r", "")
        (tmp_path / "grading.txt").write_text(plain, encoding="utf-8")
        assert f"\n{scratch}\n" in plain, plain[:3000]  # grading's scratch goes there, not to /tmp
        assert f"{GRADED} 0" in plain, plain[-3000:]
        assert "released to 3 of 3" in plain, plain[-3000:]
        assert not list(scratch.iterdir()), "grading left its scratch folders"
        # Every instructor reads the grades (the course directory is their group's): the due date is
        # there, and each submission, late, is marked so and not penalized.
        grades = as_user(names[INSTRUCTOR], "cat", str(hub.state / "course" / "grades.csv"))
        rows = {row["student_id"]: row for row in csv.DictReader(grades.stdout.splitlines())}
        assert set(rows) == {names[role] for role in labs}, grades.stdout + grades.stderr
        for row in rows.values():
            assert row["duedate"].startswith(DUE) and row["timestamp"] > row["duedate"], row
            assert float(row["late_submission_penalty"]) == 0 and row["score"] == row["raw_score"], row
        lap("graded in the grading server's terminal")

        # Each learner fetches their own feedback and reads their own score.
        seen = {role: fetch_feedback(pages[role], lab) for role, lab in labs.items()}
        for role, text in seen.items():
            (tmp_path / f"{role}-feedback.txt").write_text(text, encoding="utf-8")
        scores = {role: score(text) for role, text in seen.items()}
        assert scores == {SOLVER: "10/10", WRONG: "0/10", PEEKER: "0/10"}, (scores, tmp_path)
        assert "PEEK" not in seen[SOLVER] + seen[WRONG], "eve's code on a classmate's page"
        graded_peeks = peeks(seen[PEEKER])  # her code run by grading, in the sandbox: nothing there
        assert all(graded_peeks.get(label) in ("PermissionError", "FileNotFoundError") for label in targets), (
            graded_peeks
        )
        # The instructor's formgrader (the shared gradebook) has the same three scores.
        listed = contexts[INSTRUCTOR].request.get(f"{hub.url}{SERVICE}formgrader/api/submissions/{CHAPTER}").json()
        in_gradebook = {row["student"]: f"{row['score']:g}/{row['max_score']:g}" for row in listed}
        assert in_gradebook == {names[role]: scores[role] for role in labs}, in_gradebook
        lap("feedback fetched and read by each")

        # Through the hub, a learner is refused a classmate's server: workspace, notebook, feedback.
        feedback = {
            role: next((lab.workspace / CHAPTER / "feedback").glob("*/producer_consumer.html")).relative_to(
                lab.workspace
            )
            for role, lab in labs.items()
        }
        refused = {}
        for role, other in ((PEEKER, SOLVER), (PEEKER, WRONG), (SOLVER, WRONG), (WRONG, SOLVER)):
            request = contexts[role].request
            for path in (f"api/contents/{CHAPTER}", f"files/{CHAPTER}/{NOTEBOOK}", f"files/{feedback[other]}"):
                refused[f"{role} -> {other}/{path.split('/')[0]}"] = request.get(f"{labs[other].url}/{path}").status
        assert set(refused.values()) == {403}, refused
        # ... and, from their own accounts, the exchange's feedback folder and a classmate's page.
        assert "Permission denied" in as_user(names[SOLVER], "ls", str(inbound.parent / "feedback")).stderr
        peek = as_user(names[SOLVER], "cat", str(labs[WRONG].workspace / feedback[WRONG]))
        assert "Permission denied" in peek.stderr, peek
        lap("classmates' servers refused")
    print("\n" + "\n".join(f"{seconds:6.1f} s  {what}" for what, seconds in timings.items()))
    print(f"eve's attempts in her kernel: {in_her_kernel}\n... and as graded: {graded_peeks}")


def test_a_sandbox_of_an_ordinary_account_may_start_processes_beyond_what_the_account_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hub grades as its grader account, whose every thread counts against a sandbox's process
    cap (RLIMIT_NPROC is the real user's): the cap counts from what the account runs (sandbox.py).
    Here ``nobody`` stands for the grader: ten threads of it raise the cap by ten."""
    if os.geteuid() != 0:
        pytest.skip("runs a process as nobody")
    nobody = pwd.getpwnam("nobody").pw_uid
    assert process_cap(Limits()) == Limits().processes, "root is exempt from the cap: unchanged"
    monkeypatch.setattr(os, "getuid", lambda: nobody)
    before = process_cap(Limits())
    assert before >= Limits().processes * notebooks_at_once()
    threads = "import threading, time\nfor _ in range(9): threading.Thread(target=time.sleep, args=(30,)).start()"
    holder = subprocess.Popen(["/usr/bin/python3", "-c", threads], user=nobody)
    try:
        status = Path(f"/proc/{holder.pid}/status")
        deadline = time.monotonic() + 10
        while "Threads:\t10\n" not in status.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)  # until the process has started its threads
        assert process_cap(Limits()) == before + 10
    finally:
        holder.kill()
        holder.wait()
