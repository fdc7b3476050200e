"""The whole loop through nbgrader's exchange, as learners and the instructor live it: the chapter
is published, two learners fetch it and hand it in with nbgrader's own submit, one grading command
grades, records and releases the feedback, and each learner's Fetch Feedback brings back their own
page, and only theirs, which names each graded cell by its exercise, wraps long lines, keeps their
pictures and says which course version graded it. A notebook put into ``submitted/`` by hand is
graded but has nothing to be released to, and the summary says so."""

from __future__ import annotations

import csv
import re
import shutil
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
import pytest
from traitlets.config import Config

from autograder.batch import StudentResult, grade_chapter, where_results_are
from autograder.chapters import COURSE_DIR, Chapter
from autograder.collect import collect, submission_secret
from autograder.exchange import COURSE_ID, EXCHANGE_ENV, inbound_dir, publish
from autograder.grading import released_version
from coursekit.version import course_version
from tests.hostile_submissions import CHAPTER, SOURCE, solved

pytestmark = pytest.mark.slow  # left out by `course.py test --quick`

NOTEBOOK = SOURCE.stem
ACTIVE_HTML = (
    '<b>bold</b><script>alert("s")</script><img src="x" onerror="alert(1)"><a href="javascript:alert(2)">a</a>'
)


def exchange_step(step: str, student: str, workspace: Path, exchange: Path) -> None:
    """Run nbgrader's learner-side exchange step (``fetch_assignment``, ``submit``, ``fetch_feedback``)
    as the Assignments tab runs it, for ``student`` with their own workspace and submission cache."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeFetchAssignment, ExchangeFetchFeedback, ExchangeSubmit

    config = Config(
        {
            "CourseDirectory": {"course_id": COURSE_ID, "student_id": student, "assignment_id": CHAPTER},
            "Exchange": {
                "root": str(exchange),
                "assignment_dir": str(workspace),
                "cache": str(workspace / ".nbgrader_cache"),
            },
        }
    )
    kinds: dict[str, Any] = {
        "fetch_assignment": ExchangeFetchAssignment,
        "submit": ExchangeSubmit,
        "fetch_feedback": ExchangeFetchFeedback,
    }
    coursedir = CourseDirectory(config=config)
    kinds[step](coursedir=coursedir, authenticator=Authenticator(config=config), config=config).start()


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[StudentResult]]:
    root = tmp_path_factory.mktemp("loop")
    course = root / "instructor"
    course.mkdir()
    shutil.copy2(COURSE_DIR / "nbgrader_config.py", course)
    shutil.copytree(SOURCE.parent, root / "notebooks" / CHAPTER)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(EXCHANGE_ENV, raising=False)
        publish([Chapter(CHAPTER, root / "notebooks" / CHAPTER)], course)
        exchange = course / "exchange"
        for student in ("ann", "bob"):
            workspace = root / student
            exchange_step("fetch_assignment", student, workspace, exchange)
            if student == "ann":  # ann answers in her fetched copy; bob hands it in as fetched: nothing solved
                fetched = nbformat.read(workspace / CHAPTER / SOURCE.name, as_version=4)
                fetched.cells = solved().cells
                nbformat.write(fetched, workspace / CHAPTER / SOURCE.name)
            exchange_step("submit", student, workspace, exchange)
        by_hand = course / "submitted" / "cid" / CHAPTER
        by_hand.mkdir(parents=True)
        nbformat.write(solved(), by_hand / SOURCE.name)
        active = solved()  # eve's answer shows HTML that would run in whoever opens her feedback
        answer = next(cell for cell in active.cells if cell.metadata.get("nbgrader", {}).get("solution"))
        answer.source += f"\nfrom IPython.display import HTML, display\ndisplay(HTML({ACTIVE_HTML!r}))\n"
        (course / "submitted" / "eve" / CHAPTER).mkdir(parents=True)
        nbformat.write(active, course / "submitted" / "eve" / CHAPTER / SOURCE.name)
        before = dask_leftovers()
        results = grade_chapter(CHAPTER, course_dir=course, workers=2, progress=False)
        assert dask_leftovers() <= before, "the local Dask cluster left its scratch space in the temporary folder"
        for student in ("ann", "bob"):
            exchange_step("fetch_feedback", student, root / student, exchange)
    return root, course, results


def dask_leftovers() -> set[str]:
    """What a local Dask cluster may leave in the temporary folder."""
    return {entry.name for entry in Path(tempfile.gettempdir()).iterdir() if "dask" in entry.name}


def fetched_pages(workspace: Path) -> list[Path]:
    return sorted((workspace / CHAPTER / "feedback").glob(f"*/{NOTEBOOK}.html"))


def page_score(page: Path) -> str:
    found = re.search(r"Score: ([0-9.]+) / ([0-9.]+)", page.read_text())
    assert found, f"{page} shows no score"
    return f"{float(found[1]):g}/{float(found[2]):g}"


def test_each_learner_fetches_their_own_feedback(loop: tuple[Path, Path, list[StudentResult]]) -> None:
    root, _, results = loop
    scores = {result.student: f"{result.report.score:g}/{result.report.max_score:g}" for result in results}
    assert scores == {"ann": "6/6", "bob": "0/6", "cid": "6/6", "eve": "6/6"}
    for student in ("ann", "bob"):
        pages = fetched_pages(root / student)
        assert len(pages) == 1, f"{student}'s Fetch Feedback brought {pages}, not their one feedback page"
        assert page_score(pages[0]) == scores[student], f"{student} got a page with someone else's score"
    assert fetched_pages(root / "ann")[0].read_text() != fetched_pages(root / "bob")[0].read_text()


def test_feedback_is_released_only_where_a_learner_can_fetch_it(loop: tuple[Path, Path, list[StudentResult]]) -> None:
    _, course, results = loop
    released = {result.student: result.feedback_released for result in results}
    assert released == {"ann": True, "bob": True, "cid": False, "eve": False}
    assert len(list((course / "exchange" / COURSE_ID / "feedback").glob("*.html"))) == 2
    closing = where_results_are(CHAPTER, results, course)
    assert str(course / "grades.csv") in closing and f"{course / 'feedback'}/<student>/{CHAPTER}/" in closing
    assert "released to 2 of 4" in closing and "handed in outside the exchange, or a step failed): cid, eve" in closing
    assert "for review:  nobody" in closing
    version = course_version()
    assert f"versions:    graded by {version}; released by another version for: cid (unknown), eve (unknown)" in closing


def test_grades_csv_says_which_version_released_and_graded_each_notebook(
    loop: tuple[Path, Path, list[StudentResult]],
) -> None:
    _, course, _ = loop
    with (course / "grades.csv").open(newline="") as file:
        rows = {row["student_id"]: row for row in csv.DictReader(file)}
    version = course_version()
    assert {student: (row["released_by"], row["graded_by"]) for student, row in rows.items()} == {
        "ann": (version, version),
        "bob": (version, version),
        "cid": ("unknown", version),  # put in submitted/ by hand from the source: no release stamp
        "eve": ("unknown", version),
    }


@pytest.mark.parametrize("claimed", ['=HYPERLINK("x")', "1.0\n2.0", "9" * 80, 3, None])
def test_a_released_version_is_taken_only_when_it_looks_like_one(claimed: object) -> None:
    notebook = solved()
    notebook.metadata["course"]["released_by"] = claimed
    assert released_version(notebook) == "unknown"
    notebook.metadata["course"]["released_by"] = "0.2.0rc1"
    assert released_version(notebook) == "0.2.0rc1"


def test_collect_keeps_only_a_secret_nbgrader_could_have_written(tmp_path: Path) -> None:
    inbound = inbound_dir(tmp_path)
    for name, secret in [("ann", b"0f" * 64), ("bob", b"../../etc\n"), ("cid", b"a" * 5000)]:
        folder = inbound / f"{name}+{CHAPTER}+2026-12-01 10:00:00.000000 UTC+x"
        folder.mkdir(parents=True)
        (folder / "n.ipynb").write_bytes(b"{}")
        (folder / "submission_secret.txt").write_bytes(secret)
    linked = inbound / f"dan+{CHAPTER}+2026-12-01 10:00:00.000000 UTC+x"
    linked.mkdir()
    (linked / "submission_secret.txt").symlink_to(next(inbound.glob("ann+*")) / "submission_secret.txt")
    assert submission_secret(linked) is None
    assert collect(CHAPTER, tmp_path) == ["ann", "bob", "cid", "dan"]
    kept = {path.parts[-3] for path in (tmp_path / "submitted").glob(f"*/{CHAPTER}/submission_secret.txt")}
    assert kept == {"ann"}
    assert (tmp_path / "submitted" / "ann" / CHAPTER / "submission_secret.txt").read_text() == "0f" * 64


def test_the_feedback_page_reads_for_a_learner(loop: tuple[Path, Path, list[StudentResult]]) -> None:
    root, _, _ = loop
    solved_page, unsolved_page = (fetched_pages(root / student)[0].read_text() for student in ("ann", "bob"))
    for page in (solved_page, unsolved_page):
        names = re.findall(r'<li><a href="#ch00-[^"]+">([^<]+)</a> \(Score', page)
        assert names == [
            "Exercise A: countdown, check 1 of 2",
            "Exercise A: countdown, check 2 of 2",
            "Exercise B: fetch_all, check 1 of 2",
            "Exercise B: fetch_all, check 2 of 2",
        ], "each graded cell is named by its exercise"
        assert f"Graded by course version {course_version()}." in page
        assert "No response." not in page, "no automatic comment block in an autograded course"
        assert "white-space: pre-wrap" in page, "long lines wrap"
    assert "<img" in solved_page, "the learner's own picture is kept"


def test_a_learners_html_output_is_inert_in_the_feedback_page(loop: tuple[Path, Path, list[StudentResult]]) -> None:
    _, course, _ = loop
    page = ActiveParts()
    page.feed((course / "feedback" / "eve" / CHAPTER / f"{NOTEBOOK}.html").read_text())
    assert page.bold, "the learner's HTML output is shown"
    assert not page.found, f"active content reached the feedback page: {page.found}"


class ActiveParts(HTMLParser):
    """What of eve's HTML output would run in a browser: a script with her code, an event-handler
    attribute, a javascript: link (her code shown as text, escaped, is not)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.bold = False
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_script = tag == "script"
        self.bold = self.bold or tag == "b"
        self.found += [f"<{tag} {name}=...>" for name, _ in attrs if name.startswith("on")]
        self.found += [f"<{tag} {name}={value}>" for name, value in attrs if (value or "").startswith("javascript:")]

    def handle_data(self, data: str) -> None:
        if self.in_script and 'alert("s")' in data:
            self.found.append("<script> with the learner's code")

    def handle_endtag(self, tag: str) -> None:
        self.in_script = False
