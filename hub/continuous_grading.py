"""Continuous grading: each submission graded as it arrives, its feedback released to its learner.

``python3 course.py hub ROSTER --grade-continuously`` adds the hub service ``continuous-grading``:
JupyterHub starts this module as the grader account (in the shared course directory, its
environment the grading server's, ``$TMPDIR`` the state folder's ``scratch/``), restarts it if it
dies and stops it with the hub. It keeps one Dask ``LocalCluster`` for its whole life
(:func:`autograder.cluster.grading_client`, two notebooks per core) and, once a second:

1. asks :class:`hub.inbound_watch.InboundWatch` which learners have a new, complete submission,
   per chapter;
2. puts those learners into a :class:`hub.grading_stream.GradingStream` on that cluster, which
   grades them as ``grade-all`` does: their latest submission collected, graded in its own
   sandbox, recorded in the shared gradebook, feedback generated and released to the exchange,
   ``grades.csv`` written again;
3. logs one line per learner as each is recorded (score, whether feedback was released, seconds
   since they submitted, where the time went).

A broken or hostile notebook costs only its own grade (the sandbox, and grade-all's rules); a
learner's submission that arrives while their previous one is in the stream is graded after it is
recorded; a learner's two submissions in a row are graded once, the latest; a chapter without a
current release is never graded (grading refuses it, and the service logs why and leaves those
submissions to ``grade-all``).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from autograder.batch import StudentResult
from autograder.chapters import COURSE_DIR, select_chapters
from autograder.cluster import grading_client
from autograder.exchange import outbound_dir
from autograder.nbgrader_run import nbgrader_api
from autograder.sandbox import sandbox_problem, sweep_scratch
from hub.grading_stream import GradingStream
from hub.inbound_watch import InboundWatch

POLL_SECONDS = 1.0


def log(message: str) -> None:
    print(f"[continuous-grading {datetime.now():%H:%M:%S}] {message}", flush=True)


def seconds_since(folder_name: str) -> float | None:
    """Seconds since the submission named ``folder_name`` was made (its nbgrader timestamp,
    e.g. ``2026-12-07 06:21:29.123456 UTC``)."""
    try:
        made = datetime.strptime(folder_name.split("+")[-2].replace(" UTC", " +0000"), "%Y-%m-%d %H:%M:%S.%f %z")
    except (ValueError, IndexError):
        return None
    return (datetime.now(UTC) - made).total_seconds()


def result_line(result: StudentResult, folder_name: str) -> str:
    report = result.report
    released = "feedback released" if result.feedback_released else "feedback NOT released"
    waited = seconds_since(folder_name)
    line = f"{result.student}: {report.score:g}/{report.max_score:g}, {released}"
    line += f", {waited:.1f} s after the submission" if waited is not None else ""
    return line + (f" ({result.problem[:200]})" if result.problem else "")


def take_arrivals(watch: InboundWatch, stream: GradingStream) -> None:
    """Put every learner with a new submission into the stream, unless theirs is in it already (then
    at the next poll after it is recorded: the watch reports it again, as it is still ungraded)."""
    for chapter, learners in sorted(watch.arrivals().items()):
        for learner, folder_name in sorted(learners.items()):
            if stream.busy(chapter, learner):
                continue
            try:
                stream.add(chapter, learner, folder_name)
            except ValueError as error:  # an unknown chapter, or one without a current release
                log(f"{chapter} {learner}: not graded: {error}")
                watch.settle([folder_name])


def warm_up(stream: GradingStream, course_dir: Path) -> list[str]:
    """Load the kit of every published chapter with a current release, and nbgrader's API, before the
    first submission comes (the first grading would pay for them); the chapters ready."""
    ready = []
    for chapter in select_chapters([]):
        if outbound_dir(chapter, course_dir).is_dir():
            try:
                stream.kit(chapter.assignment)
            except ValueError:  # not released: said when a submission of it comes
                continue
            ready.append(chapter.assignment)
    with nbgrader_api(course_dir):
        pass
    return ready


def serve(course_dir: Path, stop: threading.Event) -> None:
    """Poll and grade until ``stop`` is set, on one cluster kept all along."""
    watch = InboundWatch(course_dir)
    with grading_client() as client, GradingStream(client, course_dir) as stream:
        started = time.monotonic()
        ready = warm_up(stream, course_dir)
        threads = sum(client.nthreads().values())
        log(f"ready in {time.monotonic() - started:.1f} s for {', '.join(ready) or 'no chapter'} on {threads} threads")
        log(f"watching {course_dir}'s exchange")
        next_poll = 0.0
        while not stop.is_set():
            if time.monotonic() >= next_poll:
                try:
                    take_arrivals(watch, stream)
                except Exception:  # e.g. the sandbox failing: logged, and the service goes on
                    log(f"taking submissions failed:\n{traceback.format_exc()}")
                next_poll = time.monotonic() + POLL_SECONDS
            if stream.idle:
                stop.wait(max(0.0, next_poll - time.monotonic()))
                continue
            for recorded in stream.finished(timeout=max(0.05, next_poll - time.monotonic())):
                log(f"{recorded.chapter} {result_line(recorded.result, recorded.folder_name)}; {recorded.timing}")
                watch.settle([recorded.folder_name])
    sweep_scratch()
    log("stopped")


def main() -> int:
    problem = sandbox_problem()
    if problem:
        log(f"cannot grade: no sandbox: {problem}")
        return 2
    os.umask(0o007)  # the course directory is the instructors' group's (groupshared)
    stop = threading.Event()

    def stopping(signum: int, frame: FrameType | None) -> None:
        log(f"signal {signum}: stopping; recordings under way finish, a notebook being graded is graded next start")
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stopping)
    serve(COURSE_DIR, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
