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

import grp
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import nbformat
import pytest

from autograder.collect import OWNERS_ONLY_ENV, owned_by
from hub.access import Unreachable, closed_on_the_way, extended_acl, grant, interpreter_problem, needed_paths, reachable
from hub.accounts import Accounts, class_accounts, delete_accounts, ensure_accounts, exists, group_exists, ids
from hub.roster import RosterError, parse_roster
from tests.hostile_submissions import solved

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
CHAPTER = "ch00_asyncio_in_jupyter"
NOTEBOOK = "asyncio_in_jupyter.ipynb"
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


# ---- the folders on the way to the course, opened to the class while the hub runs (fast) ----


@pytest.fixture
def class_group() -> Iterator[int]:
    """A throwaway group, standing for the class's; the tests act as ``nobody`` in it."""
    if os.geteuid() != 0:
        pytest.skip("granting access to a group runs as root")
    if not shutil.which("setfacl"):
        if os.environ.get("CI") == "true":
            pytest.fail("setfacl is missing: `python3 course.py test` installs Debian's acl")
        pytest.skip("setfacl is missing (Debian's acl; `python3 course.py test` installs it)")
    name = "t" + secrets.token_hex(3) + "g"
    subprocess.run(["groupadd", name], check=True)
    try:
        yield grp.getgrnam(name).gr_gid
    finally:
        subprocess.run(["groupdel", name], check=True)


def as_nobody_in(group: int, *command: str) -> subprocess.CompletedProcess[str]:
    nobody = pwd.getpwnam("nobody").pw_uid
    return subprocess.run(
        command, user=nobody, group=group, extra_groups=[], cwd="/", capture_output=True, text=True, check=False
    )


def test_a_closed_folder_on_the_way_is_opened_to_the_class_traverse_only_while_the_hub_runs(class_group: int) -> None:
    closed = Path(tempfile.mkdtemp(prefix="course-closed-"))  # 0700, as /root is on many machines
    try:
        repo = closed / "clones" / "course"
        repo.mkdir(parents=True, mode=0o755)
        (repo / "course.txt").write_text("the course\n", encoding="utf-8")
        record = closed / "access.json"
        assert closed_on_the_way([repo]) == [closed]
        assert as_nobody_in(class_group, "cat", str(repo / "course.txt")).returncode != 0
        with reachable([repo], [class_group], record) as opened:
            assert opened == [closed]
            assert as_nobody_in(class_group, "cat", str(repo / "course.txt")).stdout == "the course\n"
            listing = as_nobody_in(class_group, "ls", str(closed))
            assert listing.returncode != 0 and "Permission denied" in listing.stderr, "traverse only, never list"
            assert json.loads(record.read_text())[0]["path"] == str(closed)
        assert extended_acl(closed) == "" and closed.stat().st_mode & 0o777 == 0o700, "not put back as it was"
        assert not record.exists()
        assert as_nobody_in(class_group, "cat", str(repo / "course.txt")).returncode != 0

        # A hub that died (SIGKILL) left its grant: the next start takes it away first.
        grant([closed], [class_group], record)
        assert str(class_group) in extended_acl(closed)
        with reachable([repo], [class_group], record):
            pass
        assert extended_acl(closed) == "" and not record.exists()

        # A folder the servers read that others cannot is refused, with the command that fixes it.
        repo.chmod(0o750)
        with pytest.raises(Unreachable, match=f"chmod o\\+rx {repo}"), reachable([repo], [class_group], record):
            pass
        assert extended_acl(closed) == ""
    finally:
        shutil.rmtree(closed)


def test_the_class_finds_the_hubs_own_interpreter_not_one_by_chance(class_group: int) -> None:
    """Run as the class, the course environment's python finds the interpreter it was made from
    (a venv only points at it) once the folders on the way are opened, wherever it is installed."""
    state = Path(tempfile.mkdtemp(prefix="course-state-"))
    state.chmod(0o755)
    try:
        paths = needed_paths(ROOT, state)
        closed = closed_on_the_way(paths)
        before = interpreter_problem(sys.executable, "nobody", pwd.getpwnam("nobody").pw_uid, [class_group])
        assert (before is not None) == bool(closed), (closed, before)  # e.g. /root, 0700, holding pyenv's python
        with reachable(paths, [class_group], state / "access.json") as opened:
            assert opened == closed
            assert interpreter_problem(sys.executable, "nobody", pwd.getpwnam("nobody").pw_uid, [class_group]) is None
        assert all(str(class_group) not in extended_acl(folder) for folder in closed)
    finally:
        shutil.rmtree(state)


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


def wait_until_up(hub: Hub, deadline: float, trusted: ssl.SSLContext | None = None) -> None:
    """Until the hub's API answers (over https, ``trusted`` says which certificate to trust)."""
    while time.monotonic() < deadline:
        if hub.process.poll() is not None:
            pytest.fail(f"the hub ended (exit {hub.process.returncode}):\n{hub.log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{hub.url}/hub/api/", timeout=2, verify=trusted or True).status_code == 200:
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
    """Processes still running as the class's accounts. A zombie is not running: a kernel whose
    server has just ended shows as ``[python] <defunct>`` until init reaps it."""
    names = ",".join((*accounts.people, accounts.grader))
    listing = subprocess.run(["ps", "-o", "pid=,stat=,user:32=,args=", "-u", names], capture_output=True, text=True)
    return [line for line in listing.stdout.strip().splitlines() if not line.split()[1].startswith("Z")]


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
        opened = re.search(r"traverse only, while the hub runs: (.*)", log.read_text())
        print(f"folders opened to the class while it runs: {opened[1] if opened else 'none'}")
        yield running
    finally:
        stop(running)
        gids = [grp.getgrnam(group).gr_gid for group in (accounts.instructors_group, accounts.learners_group)]
        closed = closed_on_the_way(needed_paths(ROOT, state / "state"))
        still_open = [
            (folder, extended_acl(folder)) for folder in closed if any(str(g) in extended_acl(folder) for g in gids)
        ]
        leftovers = left_running(running.accounts)
        problems = delete_accounts(running.accounts)
        shutil.rmtree(state, ignore_errors=True)
        assert process.returncode is not None
        assert not leftovers, f"still running after the hub stopped: {leftovers}"
        assert not still_open, f"still open to the class after the hub stopped: {still_open}"
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
        ["runuser", "-u", user, "--", *command], cwd=cwd, env=env, capture_output=True, text=True, timeout=180
    )


def wait_for_server(api: httpx.Client, user: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        server = api.get(f"/users/{user}").json()["servers"].get("", {})
        if server.get("ready"):
            return
        time.sleep(0.5)
    pytest.fail(f"{user}'s server was not ready in time")


def in_parallel(*runs: Callable[[], T]) -> list[T]:
    """Run each (a command: a nbgrader start-up is seconds of CPU) at once; their results in order."""
    with ThreadPoolExecutor(len(runs)) as pool:
        return list(pool.map(lambda run: run(), runs))


def page_score(page: Path) -> str:
    found = re.search(r"Score: ([0-9.]+) / ([0-9.]+)", page.read_text())
    assert found, f"{page} shows no score"
    return f"{float(found[1]):g}/{float(found[2]):g}"


@pytest.mark.hub
def test_a_class_on_one_hub(hub: Hub) -> None:
    instructor, (learner, classmate) = hub.accounts.instructors[0], hub.accounts.learners
    homes = {person: Path(os.path.expanduser(f"~{person}")) for person in (learner, classmate, instructor)}
    exchange = hub.state / "exchange" / "asyncio-course"
    inbound, outbound = exchange / "inbound", exchange / "outbound" / CHAPTER

    # Sign-up is for the roster: a roster name signs up and logs in; another name is refused at both.
    for person in (instructor, learner, classmate):
        assert "The signup was successful" in sign_up(hub, person)
    stranger = hub.accounts.prefix + "mallory"
    assert "Something went wrong" in sign_up(hub, stranger)
    assert log_in(hub, stranger) is None
    session = log_in(hub, instructor)
    assert session is not None, "an instructor on the roster could not log in"

    # The instructor makes an API token; two learners' servers start through the API with it.
    xsrf = session.cookies["_xsrf"]
    made = session.post(f"/hub/api/users/{instructor}/tokens", json={"note": "test"}, headers={"X-XSRFToken": xsrf})
    assert made.status_code == 201, made.text
    token = {"Authorization": f"token {made.json()['token']}"}
    api = httpx.Client(base_url=f"{hub.url}/hub/api", headers=token, timeout=30)
    services = api.get("/services").json()
    assert {"asyncio-course", "idle-culler"} <= set(services), services
    assert not api.get(f"/users/{instructor}").json()["admin"], "an instructor is a hub admin"
    started = time.monotonic()
    for person in (learner, classmate):
        assert api.post(f"/users/{person}/server").status_code in (201, 202)

    # While they start: the instructor, logged in, opens the shared grading server through the hub
    # (formgrader, on the class's course directory). (test_hub_browser sets a due date there, grades
    # and reads the grades.)
    with closing(session):
        formgrader = session.get("/services/asyncio-course/", follow_redirects=True)
        assert formgrader.status_code == 200 and formgrader.url.path.endswith("/formgrader/manage_assignments")
        listed = session.get("/services/asyncio-course/formgrader/api/assignments").json()
        assert CHAPTER in {assignment["name"] for assignment in listed}, listed
    # A learner, logged in, is refused the grading server, its pages and its API alike.
    own = log_in(hub, learner)
    assert own is not None
    refused = own.get("/services/asyncio-course/", follow_redirects=True)
    assert refused.status_code == 403 and refused.url.path == "/hub/api/oauth2/authorize", refused.url
    for path in ("formgrader/api/assignments", "api/contents", "terminals/1"):
        assert own.get(f"/services/asyncio-course/{path}", follow_redirects=True).status_code == 403, path

    # An instructor cannot hand in, for a learner or at all: the inbound folder is the learners' group's.
    copy = homes[instructor] / CHAPTER
    assert as_user(instructor, "cp", "-r", str(outbound), str(copy)).returncode == 0
    forge = [f"--Exchange.root={hub.state / 'exchange'}", f"--CourseDirectory.student_id={learner}"]
    forged = as_user(
        instructor, "python", "-m", "nbgrader", "submit", CHAPTER, "--course=asyncio-course", *forge, cwd=copy.parent
    )
    assert forged.returncode != 0 and "write permissions" in forged.stderr, forged.stderr

    for person in (learner, classmate):
        wait_for_server(api, person, time.monotonic() + 120)
    print(f"two learners' servers ready {time.monotonic() - started:.1f} s after they were asked for")

    # The learner's server shows the course home page, to the learner; the instructor cannot open
    # it (so cannot hand in from it), nor can a classmate.
    with closing(own):
        home = own.get(f"/user/{learner}/course", follow_redirects=True)
        assert home.status_code == 200 and "asyncio in Jupyter" in home.text, home.text[:500]
    with httpx.Client(base_url=hub.url, headers=token) as instructors_token:
        assert instructors_token.get(f"/user/{learner}/api/contents").status_code == 403
    other = log_in(hub, classmate)
    assert other is not None
    with closing(other):
        assert other.get(f"/user/{learner}/course", follow_redirects=True).status_code == 403
    assert (homes[classmate] / "workspace" / CHAPTER / NOTEBOOK).is_file(), "the published chapter is not there"

    # Homes are private: a learner cannot read a classmate's files, nor an instructor's.
    secret = as_user(classmate, "sh", "-c", "echo classmate-secret > ~/secret.txt && chmod 644 ~/secret.txt")
    assert secret.returncode == 0, secret.stderr
    for target in (homes[classmate] / "secret.txt", homes[classmate] / "workspace"):
        peek = as_user(learner, "ls", str(target))
        assert peek.returncode != 0 and "Permission denied" in peek.stderr, (target, peek)
    assert as_user(learner, "ls", str(homes[instructor])).returncode != 0

    # The learner fetches the chapter with nbgrader (their workspace's configuration: the hub's
    # exchange) while the classmate hands in the copy their server gave them, untouched.
    workspace = homes[learner] / "workspace"
    fetch = ["sh", "-c", f"rm -r {CHAPTER} && exec python -m nbgrader fetch_assignment {CHAPTER}"]
    fetched, handed = in_parallel(
        lambda: as_user(learner, *fetch, cwd=workspace),
        lambda: as_user(classmate, "python", "-m", "nbgrader", "submit", CHAPTER, cwd=homes[classmate] / "workspace"),
    )
    assert fetched.returncode == 0 and "Fetched as: asyncio-course" in fetched.stderr, fetched.stderr
    assert handed.returncode == 0, handed.stderr
    # ... answers every exercise (the reference solutions) and hands in.
    notebook = workspace / CHAPTER / NOTEBOOK
    answered = nbformat.read(notebook, as_version=4)
    answered.cells = solved().cells
    nbformat.write(answered, notebook)
    os.chown(notebook, *ids(learner))
    handed = as_user(learner, "python", "-m", "nbgrader", "submit", CHAPTER, cwd=workspace)
    assert handed.returncode == 0, handed.stderr
    submissions = {entry.name.split("+")[0]: entry for entry in inbound.iterdir()}
    assert set(submissions) == {learner, classmate}

    # A learner can neither list the submissions nor read a classmate's, even knowing its name.
    assert "Permission denied" in as_user(learner, "ls", str(inbound)).stderr
    theirs = submissions[classmate]
    for target in (theirs, theirs / "timestamp.txt", theirs / NOTEBOOK):
        peek = as_user(learner, "cat", str(target))
        assert peek.returncode != 0 and ("Permission denied" in peek.stderr or "Is a directory" in peek.stderr)
    assert as_user(learner, "ls", str(theirs)).returncode != 0
    # ... nor write into it, nor into the published chapter, nor move the course's exchange away.
    moved = as_user(learner, "mv", str(exchange), str(hub.state / "exchange" / "mine"))
    assert moved.returncode != 0 and exchange.is_dir(), moved.stderr
    assert as_user(learner, "touch", str(theirs / "extra.ipynb")).returncode != 0
    assert as_user(learner, "touch", str(outbound / "extra.ipynb")).returncode != 0
    # A learner cannot read the shared course directory (the gradebook, the releases with answers' tests).
    assert "Permission denied" in as_user(learner, "ls", str(hub.state / "course")).stderr

    api.close()

    # A second start changes nothing; a learner added to the roster is the one account made.
    again = class_accounts(parse_roster(ROSTER, "again"), hub.accounts.prefix)
    assert ensure_accounts(again) == []
    added = class_accounts(parse_roster(ROSTER + '\n[[learner]]\nusername = "lec"\n', "added"), again.prefix)
    assert ensure_accounts(added) == [again.prefix + "lec"]
    hub.accounts = added  # deleted with the others at the end
    assert json.loads((hub.state / "hub" / "settings.json").read_text())["ip"] == "127.0.0.1"
