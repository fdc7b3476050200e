"""Grade every submission of a chapter: ``python -m autograder grade-all CHAPTER``.

1. :func:`autograder.collect.collect` brings the latest submission of each learner from
   the exchange into ``submitted/`` (earlier ones stay in the exchange).
2. One task per learner goes to a Dask cluster (:mod:`autograder.cluster`): each worker
   rebuilds the notebook from the release and runs it in its own sandbox
   (:func:`autograder.grading.grade_submission`). Results are keyed by learner; a task
   that fails, or whose worker dies (it is not retried elsewhere), is a 0 with its reason
   for that learner alone.
3. Back on this machine, while the rest are still being graded, an
   :class:`autograder.record.Recorder` records each batch of finished notebooks in the
   gradebook with nbgrader's ``autograde --no-execute`` (nothing runs in the course
   directory) and writes their feedback (hidden tests removed); at the end, ``grades.csv``
   (with ``for_review`` and ``review_evidence`` columns); then a summary table.

A learner whose id grading cannot carry (:mod:`autograder.learner_ids`) is refused up front:
0 points with the reason, in the results and in ``grades.csv``, never skipped in silence.

Running it again grades the same files the same way and gives the same results.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm  # type: ignore[import-untyped]  # tqdm ships no type hints

from autograder.chapters import COURSE_DIR, select_chapters
from autograder.cluster import grading_client
from autograder.collect import collect, refused_learners, regular_files
from autograder.kit import GradingKit, load_kit
from autograder.record import recording
from autograder.report import Graded, GradeReport, zero_report
from autograder.sandbox import DEFAULT_LIMITS, Limits, SandboxUnavailable, sweep_scratch
from coursekit.version import course_version

if TYPE_CHECKING:
    from distributed import Future


@dataclass(frozen=True)
class StudentResult:
    """One learner's grade; ``feedback_released``: their feedback page is in the exchange, where
    Fetch Feedback finds it (False when they handed in outside the exchange, or a step failed)."""

    student: str
    report: GradeReport
    feedback_released: bool = False
    not_recorded: str | None = None  # why a recording step (nbgrader's record, feedback, release) failed

    @property
    def problem(self) -> str | None:
        """Why the notebook could not run normally, and why recording it failed, if either."""
        return "; ".join(filter(None, [self.report.problem, self.not_recorded])) or None


def grade_chapter(
    assignment: str,
    *,
    course_dir: Path = COURSE_DIR,
    workers: int | None = None,
    scheduler: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    unsafe: bool = False,
    progress: bool = True,
    on_graded: Callable[[str], None] = lambda student: None,
) -> list[StudentResult]:
    """Collect, grade, record, give feedback, release it, and export one chapter; results sorted by
    student. The chapter must have a current release (ValueError otherwise): releasing is a step of
    its own, so that grading never changes the tests learners were given."""
    chapter = select_chapters([assignment])[0]
    kit = load_kit(chapter, course_dir)
    collect(assignment, course_dir)
    refused = refused_learners(assignment, course_dir)
    submissions = {
        folder.name: submitted_notebook(kit, folder / assignment)
        for folder in sorted((course_dir / "submitted").iterdir() if (course_dir / "submitted").is_dir() else [])
        if folder.is_dir() and not folder.is_symlink() and (folder / assignment).is_dir() and folder.name not in refused
    }
    results: dict[str, Graded] = {}
    problems: dict[str, str] = {}
    bar = tqdm(total=len(submissions), desc=f"grading {assignment}", unit="notebook", disable=not progress)
    with bar, recording(kit, course_dir) as recorder:
        recorder.refused = {student: f"refused: {why}" for student, why in refused.items()}
        for batch in grade_in_batches(
            kit, submissions, limits=limits, workers=workers, scheduler=scheduler, unsafe=unsafe
        ):
            bar.update(len(batch))
            for student in batch:
                on_graded(student)
            problems |= recorder.record(batch)
            results.update(batch)
    results |= {student: Graded(zero_report(kit, f"refused: {why}"), None) for student, why in refused.items()}
    return [
        StudentResult(
            student,
            results[student].report,
            student not in problems and student not in recorder.unreleased and student not in refused,
            problems.get(student),
        )
        for student in sorted(results)
    ]


def submitted_notebook(kit: GradingKit, folder: Path) -> bytes:
    """The notebook a learner handed in, as collected into ``submitted/<learner>/<chapter>/`` (b"" if none)."""
    return dict(regular_files(folder)).get(kit.notebook_name, b"")


def record_graded(kit: GradingKit, graded: dict[str, Graded], course_dir: Path = COURSE_DIR) -> list[StudentResult]:
    """Record graded notebooks (gradebook, feedback released, grades.csv) as grade-all does, for a grading
    that came in separately (continuous grading, hub/continuous_grading.py); their results, sorted."""
    with recording(kit, course_dir) as recorder:
        problems = recorder.record(graded)
    released = set(graded) - set(problems) - recorder.unreleased
    return [
        StudentResult(student, graded[student].report, student in released, problems.get(student))
        for student in sorted(graded)
    ]


def grade_in_batches(
    kit: GradingKit,
    submissions: dict[str, bytes],
    *,
    limits: Limits,
    workers: int | None = None,
    scheduler: str | None = None,
    unsafe: bool = False,
) -> Iterator[dict[str, Graded]]:
    """Grade each learner's notebook file as a Dask task; yield {learner: result} for every
    learner, whatever fails, in batches: each holds all that finished since the last was taken.

    No more tasks are in flight than the cluster has threads, so the scheduler hands each task
    to an idle thread and a worker holds only the notebooks it is running: a worker that dies
    takes no queued classmate with it."""
    from distributed import as_completed

    from autograder.kit_on_workers import grade_on_worker, kit_on_workers

    if not submissions:
        return
    waiting = iter(submissions.items())
    with grading_client(scheduler, workers) as client, kit_on_workers(client, kit) as kit_name:
        students: dict[Future[Graded], str] = {}
        running = as_completed()

        def top_up() -> None:
            free = max(1, sum(client.nthreads().values())) - running.count()
            for student, data in itertools.islice(waiting, max(0, free)):
                path = f"{student}/{kit.notebook_name}"
                future = client.submit(grade_on_worker, kit_name, path, data, limits, unsafe, key=f"grade-{student}")
                students[future] = student
                running.add(future)

        top_up()
        for finished in running.batches():
            top_up()  # before the caller records this batch, so that no thread waits meanwhile
            yield {students.pop(future): outcome(kit, future) for future in finished}
    sweep_scratch()  # what a worker killed mid-task on this machine left behind


WORKER_LOST = (
    "the Dask worker grading this notebook was lost while it ran (killed, or out of memory); a notebook whose "
    "worker dies is not graded again, so that it cannot take down the cluster one worker after another"
)


def outcome(kit: GradingKit, future: Future[Graded]) -> Graded:
    """A finished grading task's result; a task that itself failed (its worker died, say) is a 0
    with the reason. A worker without bubblewrap stops the batch rather than give everyone 0."""
    from distributed import KilledWorker

    try:
        graded: Graded = future.result()
    except SandboxUnavailable:
        raise
    except KilledWorker:
        return Graded(zero_report(kit, WORKER_LOST), None)
    except Exception as error:
        return Graded(zero_report(kit, f"grading failed on the cluster: {type(error).__name__}: {error}"), None)
    return graded


def where_results_are(assignment: str, results: list[StudentResult], course_dir: Path = COURSE_DIR) -> str:
    """The closing lines of grade-all: where grades.csv, the feedback and the review list are, and
    which learners worked on a chapter released by another course version than the grading one."""
    released = [result.student for result in results if result.feedback_released]
    kept = [result.student for result in results if not result.feedback_released]
    review = [result.student for result in results if result.report.review]
    lines = [
        f"grades.csv:  {course_dir / 'grades.csv'} (every chapter's grades; at the end of each row: "
        "for_review, review_evidence, released_by, graded_by)",
        f"feedback:    {course_dir / 'feedback'}/<student>/{assignment}/",
        f"             released to {len(released)} of {len(results)}: they get it with Fetch Feedback "
        "(Assignments tab)",
    ]
    if kept:
        lines.append(f"             not released (handed in outside the exchange, or a step failed): {', '.join(kept)}")
    lines.append(
        f"for review:  {', '.join(review)} (grades.csv's review_evidence says why; the scores stand)"
        if review
        else "for review:  nobody"
    )
    return "\n".join([*lines, version_line(results)])


def version_line(results: list[StudentResult]) -> str:
    """Which course version graded, and the learners whose notebook another version released
    (grades.csv's released_by and graded_by columns)."""
    graded_by = sorted({result.report.graded_by for result in results}) or [course_version()]
    others = [
        f"{result.student} ({result.report.released_by})"
        for result in results
        if result.report.released_by != result.report.graded_by
    ]
    line = f"versions:    graded by {', '.join(graded_by)}; "
    return line + (f"released by another version for: {', '.join(others)}" if others else "all released by it")


def summary_table(results: list[StudentResult]) -> str:
    """One line per student: score, review mark, and the reason when the notebook could not run normally."""
    if not results:
        return "no submissions"
    width = max(len("student"), *(len(result.student) for result in results))
    lines = [f"{'student':<{width}}  score   review  reason", f"{'-' * width}  ------  ------  ------"]
    for result in results:
        report = result.report
        score = f"{report.score:g}/{report.max_score:g}"
        review = "YES" if report.review else ""
        reason = (result.problem or "") + (f" [review: {report.review[0]}]" if report.review else "")
        lines.append(f"{result.student:<{width}}  {score:<6}  {review:<6}  {reason[:160]}")
    return "\n".join(lines)
