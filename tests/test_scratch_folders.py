"""Per-submission folders are named after the grading process, and the folders of a grader that
was killed mid-task (a Dask worker lost) are swept away by the next grading; never a live one's."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from autograder.sandbox import running, scratch_folder, sweep_scratch

pytestmark = pytest.mark.slow  # it makes grading's folders: it belongs to the run of the suite that grades


def test_a_dead_graders_folders_are_swept_and_a_live_ones_kept() -> None:
    temp = Path(tempfile.gettempdir())
    dead = [temp / "kernel-999999999-abc", temp / "release-view-999999999-abc"]  # a pid no process has
    alive = temp / f"kernel-{os.getppid()}-abc"  # pytest's parent is running
    for folder in [*dead, alive]:
        folder.mkdir()
        (folder / "connection.json").write_text("{}")
    try:
        with scratch_folder("kernel-") as mine:
            assert Path(mine).name.startswith(f"kernel-{os.getpid()}-")
            sweep_scratch()
            assert Path(mine).is_dir() and alive.is_dir()
            assert not [folder for folder in dead if folder.exists()]
        assert not Path(mine).exists()
    finally:
        for folder in [*dead, alive]:
            if folder.exists():
                (folder / "connection.json").unlink()
                folder.rmdir()


def test_a_killed_process_not_yet_reaped_is_not_running() -> None:
    child = subprocess.Popen(["sleep", "60"])
    assert running(child.pid)
    child.kill()
    while Path(f"/proc/{child.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
        time.sleep(0.01)  # until the kernel has made it a zombie (it is not reaped yet)
    assert not running(child.pid)
    child.wait()
    assert not running(child.pid)


def test_a_folder_another_grader_sweeps_meanwhile_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Graders sweep at once (Dask workers, each starting a notebook): the dead grader's folder can
    go between this sweep finding it and removing it. Found in CI: FileNotFoundError stopped a
    batch's grading."""
    dead = Path(tempfile.gettempdir()) / "release-view-999999999-gone"
    dead.mkdir()

    def another_grader_sweeps_first(pid: int) -> bool:
        if dead.exists():
            dead.rmdir()
        return False

    monkeypatch.setattr("autograder.sandbox.running", another_grader_sweeps_first)
    sweep_scratch()
    assert not dead.exists()
