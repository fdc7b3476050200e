"""Grading as a stream on a Dask cluster kept for the service's life: learners go in as their
submissions arrive, results come out as each notebook is graded. Continuous grading's engine.

:meth:`GradingStream.add` collects one learner's latest submission (``collect`` with ``only``) and
queues it; no more notebooks are graded at once than the cluster has threads (as ``grade-all``:
:func:`autograder.batch.grade_in_batches`). :meth:`GradingStream.finished` waits up to a second
for graded notebooks, then records all that finished, per chapter, as ``grade-all`` records a
batch (:func:`autograder.batch.record_graded`: the gradebook, feedback generated and released,
``grades.csv``), in a thread of its own, so that the cluster is handed the next queued notebooks
while it records (a recording takes seconds: nbgrader's autograde, feedback and export); that
thread takes every notebook graded by the time it starts. A learner is in the stream once at a
time: their next submission goes in when the previous one is recorded (the recorded notebook
carries its submission's timestamp and secret, which a second collect would overwrite meanwhile).

Each chapter's grading kit is loaded once (:func:`autograder.kit.load_kit`, which refuses a
chapter without a current release) and kept on the workers; it is loaded again when the chapter's
release changes (a newer release folder), so nobody is graded on tests they were not given.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from autograder.batch import StudentResult, outcome, record_graded, submitted_notebook
from autograder.chapters import select_chapters
from autograder.collect import collect
from autograder.kit import GradingKit, load_kit
from autograder.kit_on_workers import grade_on_worker, kit_on_workers
from autograder.release import is_released, release_dir
from autograder.report import Graded
from autograder.sandbox import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from distributed import Client, Future


@dataclass(frozen=True)
class Entry:
    """One learner's submission in the stream: the kit it is graded with, the folder it came from."""

    kit: GradingKit
    kit_name: str
    learner: str
    folder_name: str
    notebook: bytes
    queued: float = field(default_factory=time.monotonic)  # when it was collected
    started: list[float] = field(default_factory=list)  # when the cluster got it (set once)


@dataclass(frozen=True)
class Recorded:
    """A learner's recorded result, the submission folder it came from, and where its time went:
    seconds queued for a free thread, graded (in the sandbox, on the cluster, until seen done),
    waiting for the recording thread, then recorded."""

    chapter: str
    folder_name: str
    result: StudentResult
    queued: float
    graded: float
    waited: float
    recorded: float

    @property
    def timing(self) -> str:
        return (
            f"queued {self.queued:.1f} s, graded {self.graded:.1f} s, "
            f"waited to be recorded {self.waited:.1f} s, recorded {self.recorded:.1f} s"
        )


class GradingStream:
    def __init__(self, client: Client, course_dir: Path, limits: Limits = DEFAULT_LIMITS) -> None:
        self.client, self.course_dir, self.limits = client, course_dir, limits
        self.kits: dict[str, tuple[float, GradingKit, str]] = {}  # chapter: (release time, kit, name on workers)
        self.waiting: deque[Entry] = deque()
        self.running: dict[Future[Graded], Entry] = {}
        self.plugins = ExitStack()  # every kit stays on the workers until the stream closes
        # Recording runs in a thread of its own (nbgrader's API, one at a time), so that this thread
        # keeps the cluster fed meanwhile; it takes every graded notebook waiting when it starts.
        self.recorder = ThreadPoolExecutor(1, thread_name_prefix="recording")
        self.lock = threading.Lock()
        self.unrecorded: list[tuple[Entry, Graded, float]] = []  # graded, not yet recorded (with when)
        self.recording: list[Entry] = []  # being recorded
        self.recorded: queue.SimpleQueue[Recorded] = queue.SimpleQueue()

    def __enter__(self) -> GradingStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.recorder.shutdown(wait=True)
        self.plugins.close()

    @property
    def idle(self) -> bool:
        """Nothing queued, graded or being recorded."""
        with self.lock:
            return not (self.waiting or self.running or self.unrecorded or self.recording)

    def busy(self, chapter: str, learner: str) -> bool:
        """Is this learner's submission of this chapter queued, being graded or being recorded?"""
        with self.lock:
            entries = [*self.waiting, *self.running.values(), *(e for e, _, _ in self.unrecorded), *self.recording]
        return any(entry.kit.assignment == chapter and entry.learner == learner for entry in entries)

    def kit(self, chapter: str) -> tuple[GradingKit, str]:
        """The chapter's kit and its name on the workers, loaded again when its release changed.
        Raises ValueError: an unknown chapter (UnknownChapter), one without a current release (NotReleased)."""
        found = select_chapters([chapter])[0]
        released = release_dir(found, self.course_dir)
        stamp = max((path.stat().st_mtime for path in released.glob("*.ipynb")), default=0.0)
        cached = self.kits.get(chapter)
        if cached is None or cached[0] != stamp or not is_released(found, self.course_dir):
            kit = load_kit(found, self.course_dir)  # NotReleased unless the release is current
            cached = (stamp, kit, self.plugins.enter_context(kit_on_workers(self.client, kit)))
            self.kits[chapter] = cached
        return cached[1], cached[2]

    def add(self, chapter: str, learner: str, folder_name: str) -> None:
        """Collect the learner's latest submission of ``chapter`` and queue it (ValueError: see :meth:`kit`)."""
        kit, name = self.kit(chapter)
        collect(chapter, self.course_dir, only={learner})
        notebook = submitted_notebook(kit, self.course_dir / "submitted" / learner / chapter)
        with self.lock:
            self.waiting.append(Entry(kit, name, learner, folder_name, notebook))
        self.top_up()

    def top_up(self) -> None:
        """Hand the cluster queued notebooks while it has idle threads."""
        free = max(1, sum(self.client.nthreads().values())) - len(self.running)
        for _ in range(min(free, len(self.waiting))):
            with self.lock:
                entry = self.waiting.popleft()
            path = f"{entry.learner}/{entry.kit.notebook_name}"
            future = self.client.submit(
                grade_on_worker, entry.kit_name, path, entry.notebook, self.limits, False, pure=False
            )
            entry.started.append(time.monotonic())
            with self.lock:
                self.running[future] = entry

    def finished(self, timeout: float = 1.0) -> Iterator[Recorded]:
        """Wait up to ``timeout`` seconds for graded notebooks and hand them to the recording thread;
        yield every result recorded since the last call."""
        from distributed import wait

        try:
            futures = list(self.running)
            done = wait(futures, timeout=timeout, return_when="FIRST_COMPLETED").done if futures else set()  # type: ignore[no-untyped-call]  # distributed leaves wait untyped
        except TimeoutError:
            done = set()
        if not futures:
            time.sleep(timeout)
        if done:
            graded_at = time.monotonic()
            with self.lock:
                finished = {future: self.running.pop(future) for future in done}
                self.unrecorded += [
                    (entry, outcome(entry.kit, future), graded_at) for future, entry in finished.items()
                ]
            self.top_up()
            self.recorder.submit(self.record_unrecorded)
        while not self.recorded.empty():
            yield self.recorded.get()

    def record_unrecorded(self) -> None:
        """In the recording thread: record every graded notebook waiting, per chapter's kit."""
        with self.lock:
            taken, self.unrecorded = self.unrecorded, []
            self.recording += [entry for entry, _, _ in taken]
        by_kit: dict[str, dict[str, tuple[Entry, Graded, float]]] = {}
        for entry, graded, graded_at in taken:
            by_kit.setdefault(entry.kit_name, {})[entry.learner] = (entry, graded, graded_at)
        for group in by_kit.values():
            kit = next(iter(group.values()))[0].kit
            reports = {learner: graded for learner, (_, graded, _) in group.items()}
            started = time.monotonic()
            try:
                results = record_graded(kit, reports, self.course_dir)
            except Exception as error:  # nbgrader failed past its own handling: these learners' alone
                why = f"recording failed: {type(error).__name__}: {error}"[:300]
                results = [StudentResult(learner, g.report, False, why) for learner, g in sorted(reports.items())]
            recorded_at = time.monotonic()
            for result in results:
                entry, _, graded_at = group[result.student]
                sent = entry.started[0]
                self.recorded.put(
                    Recorded(
                        kit.assignment,
                        entry.folder_name,
                        result,
                        queued=sent - entry.queued,
                        graded=graded_at - sent,
                        waited=started - graded_at,
                        recorded=recorded_at - started,
                    )
                )
        with self.lock:
            self.recording = [entry for entry in self.recording if all(entry is not e for e, _, _ in taken)]
