"""``course.py hub ROSTER --grade-continuously``: each submission graded as it arrives.

The fast tests check :class:`hub.inbound_watch.InboundWatch` on a folder of its own: what is new,
complete, owned and ungraded. The hub test starts the hub for real with the option (root,
throwaway accounts, a state folder of its own, 127.0.0.1, chapter 0 published): two learners hand
in from their own accounts, with nbgrader, in the workspace their server would make (one solves the
chapter; the other hands in, beside it, a notebook that kills its own kernel, and then, at once, the
untouched one), and nobody runs
``grade-all``. Each learner's ``nbgrader fetch_feedback``, as that learner, brings back their own
page with their own score (6/6, and 0/6 for the classmate's latest submission), and neither can read
the other's. Everything is stopped and the accounts deleted at the end, whatever happened.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from autograder.exchange import COURSE_ID
from hub.accounts import ids
from hub.inbound_watch import ABANDONED_SECONDS, InboundWatch
from tests.class_hub import class_hub, skip_unless_a_hub_can_run
from tests.hostile_submissions import CASES, solved
from tests.test_hub import Hub, as_user, in_parallel, page_score
from tests.test_hub_tls import self_signed, served_with_the_certificate

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = "ch00_asyncio_in_jupyter"
NOTEBOOK = "asyncio_in_jupyter.ipynb"
ROSTER = '[[instructor]]\nusername = "ins"\n\n[[learner]]\nusername = "lea"\n\n[[learner]]\nusername = "leb"\n'
FEEDBACK_TIMEOUT = 90


# ---- what the watch finds new (fast) ----


def submission(course: Path, name: str, *, secret: bool = True) -> Path:
    folder = course / "exchange" / COURSE_ID / "inbound" / name
    folder.mkdir(parents=True)
    (folder / NOTEBOOK).write_text("{}")
    (folder / "timestamp.txt").write_text(name.split("+")[2])
    if secret:
        (folder / "submission_secret.txt").write_text("ab" * 64)
    return folder


def test_the_watch_finds_each_learners_newest_complete_ungraded_submission(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ASYNCIO_COURSE_EXCHANGE", raising=False)
    monkeypatch.delenv("ASYNCIO_COURSE_OWNERS_ONLY", raising=False)  # one account here: the folders are ours
    watch = InboundWatch(tmp_path)
    assert watch.arrivals() == {}
    first = "amy+ch00+2026-01-01 10:00:00.000000 UTC+r1"
    second = "amy+ch00+2026-01-01 10:00:05.000000 UTC+r2"
    other = "bob+ch01+2026-01-01 10:00:01.000000 UTC+r3"
    for name in (first, second, other):
        submission(tmp_path, name)
    assert watch.arrivals() == {"ch00": {"amy": second}, "ch01": {"bob": other}}, "one grading each, the newest"

    # A third submission being written holds amy back (grading takes her newest, which must be whole).
    writing = submission(tmp_path, "amy+ch00+2026-01-01 10:00:09.000000 UTC+r4", secret=False)
    assert watch.arrivals() == {"ch01": {"bob": other}}
    long_ago = time.time() - ABANDONED_SECONDS - 1
    os.utime(writing, (long_ago, long_ago))
    assert watch.arrivals()["ch00"] == {"amy": second}, "a folder left incomplete stops holding her back"

    # What was graded (its timestamp is recorded with the graded notebook) is not new any more.
    stamp = tmp_path / "sandboxed" / "amy" / "ch00" / "timestamp.txt"
    stamp.parent.mkdir(parents=True)
    stamp.write_text("2026-01-01 10:00:05.000000 UTC")
    assert watch.arrivals() == {"ch01": {"bob": other}}
    assert {first, second} <= watch.settled, "graded folders are not looked at again"
    watch.settle([other])  # e.g. its chapter had no release: logged, left to grade-all
    assert watch.arrivals() == {}


def test_the_watch_ignores_a_folder_owned_by_another_account_than_the_one_it_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a folder to another account runs as root")
    monkeypatch.delenv("ASYNCIO_COURSE_EXCHANGE", raising=False)
    monkeypatch.setenv("ASYNCIO_COURSE_OWNERS_ONLY", "1")
    forged = submission(tmp_path, "root+ch00+2026-01-01 10:00:00.000000 UTC+r1")
    os.chown(forged, 65534, 65534)  # nobody's folder, naming root
    watch = InboundWatch(tmp_path)
    assert watch.arrivals() == {} and forged.name in watch.settled


# ---- the hub, for real ----


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """This hub serves https too (one hub start for both; tests/test_hub_tls.py): its certificate and key."""
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def hub(certificate: tuple[Path, Path]) -> Iterator[Hub]:
    skip_unless_a_hub_can_run()
    cert, key = certificate
    tls = ("--ssl-cert", str(cert), "--ssl-key", str(key))
    trusted = ssl.create_default_context(cafile=str(cert))
    with class_hub(
        ROSTER, "--grade-continuously", "--chapters", CHAPTER, *tls, prefix_letter="c", trusted=trusted
    ) as running:
        yield running


@pytest.mark.hub
def test_the_hub_serves_https_with_the_certificate_it_is_given(hub: Hub, certificate: tuple[Path, Path]) -> None:
    served_with_the_certificate(hub, ssl.create_default_context(cafile=str(certificate[0])))


def prepare_workspace(hub: Hub, learner: str) -> subprocess.CompletedProcess[str]:
    """The learner's ``~/workspace`` as their server makes it (published chapters, nbgrader_config.py)."""
    code = "import pathlib, hub.singleuser as s; s.server_arguments('learner', pathlib.Path.home())"
    settings = [f"ASYNCIO_COURSE_EXCHANGE={hub.state / 'exchange'}", f"PYTHONPATH={ROOT}"]
    return as_user(learner, "env", *settings, "python", "-c", code)


def hand_in(learner: str, workspace: Path, notebook: bytes) -> None:
    """Write the notebook file and ``nbgrader submit`` it, as the learner."""
    path = workspace / CHAPTER / NOTEBOOK
    path.write_bytes(notebook)
    os.chown(path, *ids(learner))
    handed = as_user(learner, "env", f"PYTHONPATH={ROOT}", "python", "-m", "nbgrader", "submit", CHAPTER, cwd=workspace)
    assert handed.returncode == 0, handed.stderr


def wait_for_feedback(learner: str, workspace: Path) -> dict[str, object]:
    waited = as_user(
        learner, "env", f"PYTHONPATH={ROOT}", "python", "-m", "tests.feedback_visible", str(workspace), CHAPTER,
        str(FEEDBACK_TIMEOUT), cwd=workspace,
    )  # fmt: skip
    report: dict[str, object] = json.loads(waited.stdout.strip().splitlines()[-1]) if waited.stdout else {}
    assert report.get("found"), (learner, waited.stdout, waited.stderr)
    return report


@pytest.mark.hub
def test_each_submission_is_graded_as_it_arrives_and_its_learner_fetches_the_feedback(hub: Hub) -> None:
    learner, classmate = hub.accounts.learners
    workspaces = {person: Path(os.path.expanduser(f"~{person}")) / "workspace" for person in (learner, classmate)}
    started = time.monotonic()
    for prepared in in_parallel(*[lambda person=person: prepare_workspace(hub, person) for person in workspaces]):
        assert prepared.returncode == 0, prepared.stderr
    assert (workspaces[learner] / CHAPTER / NOTEBOOK).is_file(), "the published chapter is not in the workspace"
    given = (workspaces[learner] / CHAPTER / NOTEBOOK).read_bytes()
    right = nbformat.reads(given.decode(), as_version=4)
    right.cells = solved().cells
    hostile = next(case for case in CASES if case.name == "SIGKILL to its own kernel").make()

    # One learner hands in the solved chapter while the classmate hands in a notebook that kills its
    # own kernel (graded beside it: it costs only its own grade), and then, right after, the copy
    # they were given, untouched (two submissions in a row: the latest is the one that counts).
    in_parallel(
        lambda: hand_in(learner, workspaces[learner], nbformat.writes(right).encode()),
        lambda: hand_in(classmate, workspaces[classmate], hostile),
    )
    hand_in(classmate, workspaces[classmate], given)
    handed_in = time.monotonic()

    # Nobody runs grade-all: the feedback of each one's latest submission appears where their Fetch
    # Feedback looks, and they fetch it, each their own page with their own score.
    waits = in_parallel(*[lambda person=person: wait_for_feedback(person, workspaces[person]) for person in workspaces])
    print(f"\nfeedback visible {time.monotonic() - handed_in:.1f} s after the last hand-in; latencies {waits}")
    for person, score in ((learner, "6/6"), (classmate, "0/6")):
        fetched = as_user(
            person, "env", f"PYTHONPATH={ROOT}", "python", "-m", "nbgrader", "fetch_feedback", CHAPTER,
            cwd=workspaces[person],
        )  # fmt: skip
        assert fetched.returncode == 0, fetched.stderr
        pages = sorted((workspaces[person] / CHAPTER / "feedback").glob(f"*/{Path(NOTEBOOK).stem}.html"))
        assert pages, (person, fetched.stderr)
        assert page_score(pages[-1]) == score, (person, [(page, page_score(page)) for page in pages])
    theirs = sorted((workspaces[classmate] / CHAPTER / "feedback").glob("*/*.html"))[-1]
    assert "Permission denied" in as_user(learner, "cat", str(theirs)).stderr
    mine = sorted((workspaces[learner] / CHAPTER / "feedback").glob("*/*.html"))[-1]
    assert "Permission denied" in as_user(classmate, "cat", str(mine)).stderr

    log = hub.log.read_text(errors="replace")
    print("".join(line for line in log.splitlines(keepends=True) if "[continuous-grading" in line))
    assert re.search(rf"{CHAPTER} {learner}: 6/6, feedback released", log), log[-3000:]
    theirs_graded = re.findall(rf"{CHAPTER} {classmate}: (.*)", log)
    assert theirs_graded and theirs_graded[-1].startswith("0/6, feedback released"), log[-3000:]
    assert "SIGKILL" not in theirs_graded[-1], "the latest submission (the untouched copy) is the one graded last"
    print(f"hand-ins and feedback took {time.monotonic() - started:.1f} s")


def test_collect_takes_only_the_learners_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Continuous grading collects the learners whose submission arrived, nobody else's."""
    from autograder.collect import collect

    monkeypatch.delenv("ASYNCIO_COURSE_EXCHANGE", raising=False)
    monkeypatch.delenv("ASYNCIO_COURSE_OWNERS_ONLY", raising=False)
    submission(tmp_path, "amy+ch00+2026-01-01 10:00:00.000000 UTC+r1")
    submission(tmp_path, "bob+ch00+2026-01-01 10:00:01.000000 UTC+r2")
    assert collect("ch00", tmp_path, only={"amy"}) == ["amy"]
    assert not (tmp_path / "submitted" / "bob").exists()
    assert collect("ch00", tmp_path) == ["bob"], "grade-all still collects everyone"


def test_the_stream_never_grades_a_chapter_without_a_current_release(tmp_path: Path) -> None:
    """Refused before anything reaches the cluster (the service logs it and leaves it to grade-all)."""
    from autograder.chapters import UnknownChapter
    from autograder.kit import NotReleased
    from hub.grading_stream import GradingStream

    stream = GradingStream(client=None, course_dir=tmp_path)  # type: ignore[arg-type]  # never reached
    with stream, pytest.raises(NotReleased, match="no current release"):
        stream.add(CHAPTER, "amy", "amy+" + CHAPTER + "+2026-01-01 10:00:00.000000 UTC+r1")
    with pytest.raises(UnknownChapter):
        stream.kit("ch99_nothing")
    assert stream.idle and not stream.kits
