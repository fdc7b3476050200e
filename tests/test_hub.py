"""``python3 course.py hub ROSTER``: a JupyterHub for a class on this machine.

The fast tests read rosters and check the grading side's owner rule. The slow one starts the hub
for real (root, throwaway accounts with a random prefix, a state folder of its own, 127.0.0.1 on
a free port, one chapter published): sign-up through NativeAuthenticator's form, for a roster name
and for one off the roster; log-in; an API token made by the test; two learners' servers started
through the REST API; then, from the learners' and the instructor's own accounts (runuser), what
each can and cannot read or hand in. Everything is stopped and the accounts deleted at the end,
whatever happened.
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
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from autograder.collect import OWNERS_ONLY_ENV, owned_by
from hub.accounts import Accounts, class_accounts, delete_accounts, ensure_accounts, exists, group_exists
from hub.roster import RosterError, parse_roster

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = "ch00_asyncio_in_jupyter"
PASSWORD = "a-test-only-Passw0rd-" + secrets.token_hex(4)  # throwaway accounts of this test only
ROSTER = """\
[[instructor]]
username = "ins"

[[learner]]
username = "lea"

[[learner]]
username = "leb"
"""


# ---- the roster (fast) ----


def test_the_example_roster_reads() -> None:
    roster = parse_roster((ROOT / "hub" / "roster.example.toml").read_text(encoding="utf-8"), "example")
    assert roster.instructors == ["ada"] and roster.learners == ["alan", "grace"]


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ('[[instructor]]\nusername = "ada"\n\n[[learner]]\nusername = "Bob"\n', "line 4: username 'Bob'"),
        ('[[instructor]]\nusername = "ada"\n[[learner]]\nusername = "ada"\n', "line 3: 'ada' is already on"),
        ('[[instructor]]\nusername = "ada"\n[[learnr]]\nusername = "bo"\n', "line 3: unknown table 'learnr'"),
        ('[[instructor]]\nusername = "ada"\nemail = "a@b"\n', "line 1: unknown key 'email'"),
        ('[[learner]]\nusername = "bo"\n', "names no [[instructor]]"),
        ("[[learner]]\nname = 'Bo'\n[[instructor]]\nusername = 'ada'\n", "line 1: the [[learner]] entry has no"),
        ("[[learner\n", "not valid TOML"),
    ],
)
def test_a_bad_roster_is_refused_naming_its_line(text: str, wanted: str) -> None:
    with pytest.raises(RosterError) as refused:
        parse_roster(text, "roster.toml")
    assert wanted in str(refused.value)


def test_grading_refuses_the_graders_own_folders_on_the_hub(tmp_path: Path) -> None:
    """On the hub only the learner hands in: a folder the grader made naming a learner is refused."""
    (tmp_path / "learner+ch00+2026-01-01 00:00:00.000000 UTC+x").mkdir()
    entry = next(os.scandir(tmp_path))
    assert owned_by(entry, "learner")  # one machine, one account: the grader's own folders count
    os.environ[OWNERS_ONLY_ENV] = "1"
    try:
        assert not owned_by(entry, "learner")
    finally:
        del os.environ[OWNERS_ONLY_ENV]


# ---- the hub, for real (slow) ----


@dataclass
class Hub:
    url: str
    accounts: Accounts
    state: Path
    process: subprocess.Popen[bytes]
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(hub: Hub, deadline: float) -> None:
    while time.monotonic() < deadline:
        if hub.process.poll() is not None:
            pytest.fail(f"the hub ended (exit {hub.process.returncode}):\n{hub.log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{hub.url}/hub/api/", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    pytest.fail(f"the hub did not answer in time:\n{hub.log.read_text()[-3000:]}")


def stop(hub: Hub) -> None:
    """SIGTERM to the hub command (it stops JupyterHub, which stops the proxy and every server)."""
    if hub.process.poll() is None:
        hub.process.send_signal(signal.SIGTERM)
        try:
            hub.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            hub.process.kill()
            hub.process.wait()


def left_running(accounts: Accounts) -> list[str]:
    """Processes still running as the class's accounts."""
    names = ",".join((*accounts.people, accounts.grader))
    listing = subprocess.run(["ps", "-o", "pid=,user:32=,args=", "-u", names], capture_output=True, text=True)
    return listing.stdout.strip().splitlines()


@pytest.fixture(scope="module")
def hub() -> Iterator[Hub]:
    if os.geteuid() != 0:
        pytest.skip("the hub runs as root (it makes system accounts)")
    if not shutil.which("npm"):
        pytest.skip("no npm for the hub's proxy")
    prefix = "t" + secrets.token_hex(3)
    state = Path(tempfile.mkdtemp(prefix="course-hub-"))
    state.chmod(0o755)
    roster = state / "roster.toml"
    roster.write_text(ROSTER, encoding="utf-8")
    accounts = class_accounts(parse_roster(ROSTER, "test"), prefix)
    port = free_port()
    log = state / "hub.log"
    command = [sys.executable, str(ROOT / "course.py"), "hub", str(roster), "--prefix", prefix]
    command += ["--state", str(state / "state"), "--port", str(port), "--chapters", CHAPTER]
    started = time.monotonic()
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    running = Hub(f"http://127.0.0.1:{port}", accounts, state / "state", process, log)
    try:
        wait_until_up(running, time.monotonic() + 120)
        print(f"\nthe hub answered {time.monotonic() - started:.1f} s after `course.py hub` started")
        yield running
    finally:
        stop(running)
        leftovers = left_running(running.accounts)
        problems = delete_accounts(running.accounts)
        shutil.rmtree(state, ignore_errors=True)
        assert process.returncode is not None
        assert not leftovers, f"still running after the hub stopped: {leftovers}"
        assert not problems, f"accounts not deleted: {problems}"
        names = (*running.accounts.people, running.accounts.grader)
        groups = (*names, running.accounts.instructors_group, running.accounts.learners_group)
        assert not [name for name in names if exists(name)] and not [g for g in groups if group_exists(g)]


def form(client: httpx.Client, page: str) -> str:
    """The ``_xsrf`` value of the hub's page (its form field; the matching cookie stays in ``client``)."""
    found = re.search(r'name="_xsrf" value="([^"]+)"', client.get(page).text)
    assert found, f"{page} has no _xsrf field"
    return found.group(1)


def sign_up(hub: Hub, username: str) -> str:
    with httpx.Client(base_url=hub.url) as client:
        xsrf = form(client, "/hub/signup")
        data = {"username": username, "signup_password": PASSWORD, "signup_password_confirmation": PASSWORD}
        return client.post("/hub/signup", data={**data, "_xsrf": xsrf}).text


def log_in(hub: Hub, username: str) -> httpx.Client | None:
    """A client logged in as ``username``, or None if the hub refused."""
    client = httpx.Client(base_url=hub.url, timeout=30)
    xsrf = form(client, "/hub/login")
    answer = client.post("/hub/login", data={"username": username, "password": PASSWORD, "_xsrf": xsrf})
    if answer.status_code == 302 and "jupyterhub-session-id" in client.cookies:
        return client
    client.close()
    return None


def as_user(user: str, *command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``command`` as the system user ``user`` (runuser), in the course environment."""
    env = {"PATH": f"{ROOT / '.venv' / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": os.path.expanduser(f"~{user}")}
    return subprocess.run(
        ["runuser", "-u", user, "--", *command], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def wait_for_server(api: httpx.Client, user: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        server = api.get(f"/users/{user}").json()["servers"].get("", {})
        if server.get("ready"):
            return
        time.sleep(0.5)
    pytest.fail(f"{user}'s server was not ready in time")


@pytest.mark.slow
def test_a_class_on_one_hub(hub: Hub) -> None:
    instructor, (learner, classmate) = hub.accounts.instructors[0], hub.accounts.learners

    # Sign-up is for the roster: a roster name signs up and logs in; another name is refused at both.
    for person in (instructor, learner, classmate):
        assert "The signup was successful" in sign_up(hub, person)
    stranger = hub.accounts.prefix + "mallory"
    assert "Something went wrong" in sign_up(hub, stranger)
    assert log_in(hub, stranger) is None
    session = log_in(hub, instructor)
    assert session is not None, "an instructor on the roster could not log in"

    # The instructor makes an API token; two learners' servers start through the API with it.
    try:
        xsrf = session.cookies["_xsrf"]
        made = session.post(f"/hub/api/users/{instructor}/tokens", json={"note": "test"}, headers={"X-XSRFToken": xsrf})
        assert made.status_code == 201, made.text
    finally:
        session.close()
    token = {"Authorization": f"token {made.json()['token']}"}
    with httpx.Client(base_url=f"{hub.url}/hub/api", headers=token, timeout=30) as api:
        services = api.get("/services").json()
        assert {"asyncio-course", "idle-culler"} <= set(services), services
        assert not api.get(f"/users/{instructor}").json()["admin"], "an instructor is a hub admin"
        started = time.monotonic()
        for person in (learner, classmate):
            assert api.post(f"/users/{person}/server").status_code in (201, 202)
        for person in (learner, classmate):
            wait_for_server(api, person, time.monotonic() + 120)
        print(f"two learners' servers ready in {time.monotonic() - started:.1f} s")

    # The learner's server shows the course home page, to the learner; the instructor cannot open
    # it (so cannot hand in from it), nor can a classmate.
    own = log_in(hub, learner)
    assert own is not None
    with closing(own):
        home = own.get(f"/user/{learner}/course", follow_redirects=True)
        assert home.status_code == 200 and "asyncio in Jupyter" in home.text, home.text[:500]
        # ... nor the shared grading server.
        assert own.get("/services/asyncio-course/api/contents", follow_redirects=True).status_code == 403
    with httpx.Client(base_url=hub.url, headers=token) as instructors_token:
        assert instructors_token.get(f"/user/{learner}/api/contents").status_code == 403
    other = log_in(hub, classmate)
    assert other is not None
    with closing(other):
        assert other.get(f"/user/{learner}/course", follow_redirects=True).status_code == 403
    homes = {person: Path(os.path.expanduser(f"~{person}")) for person in (learner, classmate, instructor)}
    released = homes[learner] / "workspace" / CHAPTER / "asyncio_in_jupyter.ipynb"
    assert released.is_file(), "the published chapter is not in the workspace"

    # Homes are private: a learner cannot read a classmate's files, nor an instructor's.
    secret = as_user(classmate, "sh", "-c", "echo classmate-secret > ~/secret.txt && chmod 644 ~/secret.txt")
    assert secret.returncode == 0, secret.stderr
    for target in (homes[classmate] / "secret.txt", homes[classmate] / "workspace"):
        peek = as_user(learner, "ls", str(target))
        assert peek.returncode != 0 and "Permission denied" in peek.stderr, (target, peek)
    assert as_user(learner, "ls", str(homes[instructor])).returncode != 0

    # Both learners hand in with nbgrader (their workspace's configuration: the hub's exchange).
    for person in (learner, classmate):
        handed = as_user(person, "python", "-m", "nbgrader", "submit", CHAPTER, cwd=homes[person] / "workspace")
        assert handed.returncode == 0, handed.stderr
    inbound = hub.state / "exchange" / "asyncio-course" / "inbound"
    submissions = {entry.name.split("+")[0]: entry for entry in inbound.iterdir()}
    assert set(submissions) == {learner, classmate}

    # A learner can neither list the submissions nor read a classmate's, even knowing its name.
    assert "Permission denied" in as_user(learner, "ls", str(inbound)).stderr
    theirs = submissions[classmate]
    for target in (theirs, theirs / "timestamp.txt", theirs / "asyncio_in_jupyter.ipynb"):
        peek = as_user(learner, "cat", str(target))
        assert peek.returncode != 0 and ("Permission denied" in peek.stderr or "Is a directory" in peek.stderr)
    assert as_user(learner, "ls", str(theirs)).returncode != 0
    # ... nor write into it, nor into the published chapter, nor move the course's exchange away.
    course_folder = hub.state / "exchange" / "asyncio-course"
    moved = as_user(learner, "mv", str(course_folder), str(hub.state / "exchange" / "mine"))
    assert moved.returncode != 0 and course_folder.is_dir(), moved.stderr
    assert as_user(learner, "touch", str(theirs / "extra.ipynb")).returncode != 0
    outbound = hub.state / "exchange" / "asyncio-course" / "outbound" / CHAPTER
    assert as_user(learner, "touch", str(outbound / "extra.ipynb")).returncode != 0
    # The grader account reads every submission (it grades them).
    assert as_user(hub.accounts.grader, "ls", str(theirs)).returncode == 0
    # A learner cannot read the shared course directory (the gradebook, the releases with answers' tests).
    assert "Permission denied" in as_user(learner, "ls", str(hub.state / "course")).stderr

    # An instructor cannot hand in, for a learner or at all: the inbound folder is the learners' group's.
    copy = homes[instructor] / CHAPTER
    assert as_user(instructor, "cp", "-r", str(outbound), str(copy)).returncode == 0
    forged = as_user(
        instructor,
        "python",
        "-m",
        "nbgrader",
        "submit",
        CHAPTER,
        "--course=asyncio-course",
        f"--Exchange.root={hub.state / 'exchange'}",
        f"--CourseDirectory.student_id={learner}",
        cwd=homes[instructor],
    )
    assert forged.returncode != 0 and "write permissions" in forged.stderr, forged.stderr
    assert {entry.name.split("+")[0] for entry in inbound.iterdir()} == {learner, classmate}

    # A second start changes nothing; a learner added to the roster is the one account made.
    again = class_accounts(parse_roster(ROSTER, "again"), hub.accounts.prefix)
    assert ensure_accounts(again) == []
    added = class_accounts(parse_roster(ROSTER + '\n[[learner]]\nusername = "lec"\n', "added"), again.prefix)
    assert ensure_accounts(added) == [again.prefix + "lec"]
    hub.accounts = added  # deleted with the others at the end
    assert json.loads((hub.state / "hub" / "settings.json").read_text())["ip"] == "127.0.0.1"
