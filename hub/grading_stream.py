"""Grading as a stream on a Dask cluster kept for the service's life: learners go in as their
submissions arrive, results come out as each notebook is graded. Continuous grading's engine.

:meth:`GradingStream.add` collects one learner's latest submission (``collect`` with ``only``) and
queues it; no more notebooks are graded at once than the cluster has threads (as ``grade-all``:
:func:`autograder.batch.grade_in_batches`). :meth:`GradingStream.finished` waits up to a second
for graded notebooks, then records all that finished, per chapter, as ``grade-all`` records a
batch (:func:`autograder.batch.record_graded`: the gradebook, feedback generated and released,
``grades.csv``), after handing the cluster the next queued ones, so that it grades while this
records. A learner is in the stream once at a time: their next submission goes in when the
previous one is recorded (the recorded notebook carries its submission's timestamp and secret,
which a second collect would overwrite meanwhile).

Each chapter's grading kit is loaded once (:func:`autograder.kit.load_kit`, which refuses a
chapter without a current release) and kept on the workers; it is loaded again when the chapter's
release changes (a newer release folder), so nobody is graded on tests they were not given.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
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
    seconds queued for a free thread, graded (in the sandbox, on the cluster), then recorded."""

    chapter: str
    folder_name: str
    result: StudentResult
    queued: float
    graded: float
    recorded: float

    @property
    def timing(self) -> str:
        return f"queued {self.queued:.1f} s, graded {self.graded:.1f} s, recorded {self.recorded:.1f} s"


class GradingStream:
    def __init__(self, client: Client, course_dir: Path, limits: Limits = DEFAULT_LIMITS) -> None:
        self.client, self.course_dir, self.limits = client, course_dir, limits
        self.kits: dict[str, tuple[float, GradingKit, str]] = {}  # chapter: (release time, kit, name on workers)
        self.waiting: deque[Entry] = deque()
        self.running: dict[Future[Graded], Entry] = {}
        self.plugins = ExitStack()  # every kit stays on the workers until the stream closes

    def __enter__(self) -> GradingStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.plugins.close()

    def busy(self, chapter: str, learner: str) -> bool:
        """Is this learner's submission of this chapter queued or being graded?"""
        entries = [*self.waiting, *self.running.values()]
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
        self.waiting.append(Entry(kit, name, learner, folder_name, notebook))
        self.top_up()

    def top_up(self) -> None:
        """Hand the cluster queued notebooks while it has idle threads."""
        free = max(1, sum(self.client.nthreads().values())) - len(self.running)
        for _ in range(min(free, len(self.waiting))):
            entry = self.waiting.popleft()
            path = f"{entry.learner}/{entry.kit.notebook_name}"
            future = self.client.submit(
                grade_on_worker, entry.kit_name, path, entry.notebook, self.limits, False, pure=False
            )
            entry.started.append(time.monotonic())
            self.running[future] = entry

    def finished(self, timeout: float = 1.0) -> Iterator[Recorded]:
        """Wait up to ``timeout`` seconds for graded notebooks; record all that are done, per chapter."""
        from distributed import wait

        if not self.running:
            return
        try:
            done = wait(list(self.running), timeout=timeout, return_when="FIRST_COMPLETED").done  # type: ignore[no-untyped-call]  # distributed leaves wait untyped
        except TimeoutError:
            return
        finished = {future: self.running.pop(future) for future in done}
        graded_at = time.monotonic()
        self.top_up()  # the cluster grades the next ones while these are recorded
        by_kit: dict[str, dict[str, tuple[Entry, Graded]]] = {}
        for future, entry in finished.items():
            by_kit.setdefault(entry.kit_name, {})[entry.learner] = (entry, outcome(entry.kit, future))
        for graded in by_kit.values():
            kit = next(iter(graded.values()))[0].kit
            reports = {learner: g for learner, (_, g) in graded.items()}
            try:
                results = record_graded(kit, reports, self.course_dir)
            except Exception as error:  # nbgrader failed past its own handling: these learners' alone
                why = f"recording failed: {type(error).__name__}: {error}"[:300]
                results = [StudentResult(learner, g.report, False, why) for learner, g in sorted(reports.items())]
            recorded_at = time.monotonic()
            for result in results:
                entry = graded[result.student][0]
                started = entry.started[0]
                yield Recorded(
                    kit.assignment,
                    entry.folder_name,
                    result,
                    started - entry.queued,
                    graded_at - started,
                    recorded_at - graded_at,
                )
