"""grade-all on an existing Dask cluster: a real `dask scheduler` and two `dask worker` processes on
127.0.0.1. The same submissions are graded on the default local cluster and on the real one, where
a worker that holds tasks is killed (SIGKILL, no nanny to restart it) after the first result: every
learner still gets a result, the scores are those of the local run, and progress reaches every learner.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from autograder.batch import grade_in_batches
from autograder.chapters import COURSE_DIR, Chapter
from autograder.grading import Graded
from autograder.kit import GradingKit, load_kit
from autograder.release import ensure_released
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


def kill_a_busy_worker(address: str) -> list[str]:
    """SIGKILL a worker that is running or holding tasks; the keys it held."""
    from distributed import Client

    with Client(address, timeout=30) as client:
        processing = client.processing()
        busy = next(worker for worker, keys in processing.items() if keys)
        os.kill(client.run(os.getpid, workers=[busy])[busy], signal.SIGKILL)
        return [str(key) for key in processing[busy]]


def test_a_real_cluster_grades_like_a_local_one_and_survives_a_killed_worker(
    cluster: str, kit: GradingKit, submissions: dict[str, bytes]
) -> None:
    local = {s: g for batch in grade_in_batches(kit, submissions, limits=LIMITS, workers=2) for s, g in batch.items()}
    progress: list[str] = []
    lost: list[str] = []
    remote: dict[str, Graded] = {}
    for batch in grade_in_batches(kit, submissions, limits=LIMITS, scheduler=cluster):
        if not progress:
            lost.extend(kill_a_busy_worker(cluster))
        progress.extend(batch)
        remote.update(batch)
    assert lost, "the killed worker held no task"
    assert sorted(progress) == sorted(submissions), "progress reaches every learner once"
    scores = {student: graded.report.score for student, graded in local.items()}
    assert scores == {**{f"full-{n}": 6 for n in range(4)}, **{f"partial-{n}": 3 for n in range(2)}}
    assert {student: graded.report.score for student, graded in remote.items()} == scores
    assert not [graded.report.problem for graded in remote.values() if graded.report.problem]
