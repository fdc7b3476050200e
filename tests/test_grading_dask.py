"""grade-all on an existing Dask cluster: a real `dask scheduler` (Dask's default config, which
retries a task on three more workers) and two single-thread `dask worker` processes on 127.0.0.1.

Six submissions are graded on the real cluster beside a poison pill: a stand-in that kills
(SIGKILL, no nanny to restart it) the worker running it, on every worker it lands on. The pill
costs one worker and is a 0 with the reason; every classmate gets the score their notebook earns
(as on the local cluster, which the other grading tests use), and progress reaches every learner.
The batch's grading kit is sent once to each worker (a worker plugin), and taken off them at the
end. A cluster whose workers run several notebooks at once is refused, naming them.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from autograder.batch import WORKER_LOST, grade_in_batches
from autograder.chapters import COURSE_DIR, Chapter
from autograder.cluster import ClusterUnfit, grading_client
from autograder.kit import GradingKit, load_kit
from autograder.release import ensure_released
from autograder.report import Graded
from autograder.sandbox import Limits
from tests.hostile_submissions import CHAPTER, SOURCE, solved

pytestmark = pytest.mark.slow  # left out by `course.py test --quick`

LIMITS = Limits(cell_seconds=20, wall_seconds=120)
STARTUP_SECONDS = 60


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> GradingKit:
    root = tmp_path_factory.mktemp("dask-course")
    (root / "autograder").mkdir()
    shutil.copy2(COURSE_DIR / "nbgrader_config.py", root / "autograder")
    shutil.copytree(SOURCE.parent, root / "notebooks" / CHAPTER)
    chapter = Chapter(CHAPTER, root / "notebooks" / CHAPTER)
    ensure_released([chapter], root / "autograder")
    return load_kit(chapter, root / "autograder")


@pytest.fixture(scope="module")
def submissions() -> dict[str, bytes]:
    partial = solved()
    answer = next(c for c in partial.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ch00-fetch-all")
    answer.source = "async def fetch_all(delays):\n    return 0.0\n"
    return {
        **{f"full-{n}": nbformat.writes(solved()).encode() for n in range(4)},
        **{f"partial-{n}": nbformat.writes(partial).encode() for n in range(2)},
    }


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[str]:
    """A scheduler and two single-thread workers without nannies, on 127.0.0.1; its address."""
    scheduler_file = tmp_path / "scheduler.json"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    processes = [
        subprocess.Popen(
            [*dask, "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        worker = [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(scheduler_file)]
        for _ in range(2):
            processes.append(
                subprocess.Popen(
                    [*worker, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny", "--no-dashboard"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        from distributed import Client

        with Client(scheduler_file=str(scheduler_file), timeout=STARTUP_SECONDS) as client:
            client.wait_for_workers(2, timeout=STARTUP_SECONDS)
            yield client.scheduler.address
    finally:
        for process in reversed(processes):
            stop(process)


def kits_on_workers(address: str) -> list[list[str]]:
    """The names of the grading kits each worker holds."""
    from distributed import Client

    with Client(address, timeout=30) as client:
        held = client.run(lambda dask_worker: sorted(n for n in dask_worker.plugins if n.startswith("grading-kit-")))
    return [held[worker] for worker in sorted(held)]


class PoisonPill(threading.Thread):
    """Kills each worker that starts grading ``learner``'s notebook, as a notebook that takes its
    worker down would, but spares the cluster's last worker: a pill retried there is graded (and
    the test fails) rather than the batch waiting for ever. ``killed`` lists the workers killed."""

    def __init__(self, scheduler: str, learner: str) -> None:
        super().__init__(daemon=True)
        self.scheduler, self.key, self.killed = scheduler, f"grade-{learner}", list[str]()
        self.done = threading.Event()

    def run(self) -> None:
        from distributed import Client

        with Client(self.scheduler, timeout=30) as client:
            while not self.done.wait(0.1):
                processing = client.processing()
                for worker, keys in processing.items():
                    if self.key in map(str, keys) and worker not in self.killed and len(processing) > 1:
                        os.kill(client.run(os.getpid, workers=[worker])[worker], signal.SIGKILL)
                        self.killed.append(worker)


def test_a_real_cluster_grades_each_learner_and_a_poison_pill_costs_one_worker(
    cluster: str, kit: GradingKit, submissions: dict[str, bytes]
) -> None:
    pill = PoisonPill(cluster, "pill")
    progress: list[str] = []
    remote: dict[str, Graded] = {}
    with_pill = {**submissions, "pill": submissions["full-0"]}
    pill.start()
    try:
        for batch in grade_in_batches(kit, with_pill, limits=LIMITS, scheduler=cluster):
            if not progress:
                during = kits_on_workers(cluster)
            progress.extend(batch)
            remote.update(batch)
    finally:
        pill.done.set()
        pill.join()
    assert len(pill.killed) == 1, "the pill's worker was not killed"
    assert len(during) >= 1 and all(len(names) == 1 and names == during[0] for names in during), (
        f"the batch's kit is not held once by every worker: {during}"
    )
    assert kits_on_workers(cluster) == [[]], "the kit stays on the workers after the batch"
    assert sorted(progress) == sorted([*submissions, "pill"]), "progress reaches every learner once"
    pill_report = remote["pill"].report
    assert (pill_report.score, pill_report.problem) == (0, WORKER_LOST), "the pill was retried on another worker"
    scores = {**{f"full-{n}": 6 for n in range(4)}, **{f"partial-{n}": 3 for n in range(2)}}
    classmates = {student: graded.report for student, graded in remote.items() if student != "pill"}
    assert {student: report.score for student, report in classmates.items()} == scores
    assert not [report.problem for report in classmates.values() if report.problem]


def test_a_cluster_whose_workers_run_several_notebooks_at_once_is_refused() -> None:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=None
    ) as crowded:
        unfit = pytest.raises(ClusterUnfit, match=r"\(2 threads\).*--nthreads 1")
        with unfit, grading_client(crowded.scheduler_address):
            pass
