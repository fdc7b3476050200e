"""Per-submission control groups: made with their caps, removed afterwards, and groups that an
ended grader left behind are swept away (never those of a grader still running)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.cgroups import ENV, JOIN, PREFIX, cgroup_problem, submission_cgroups

CPU_CONTROLLER = Path("/sys/fs/cgroup/cpu").is_dir() or "cpu" in (
    Path("/sys/fs/cgroup/cgroup.controllers").read_text() if Path("/sys/fs/cgroup/cgroup.controllers").exists() else ""
)
pytestmark = pytest.mark.skipif(cgroup_problem() is not None, reason=f"no control groups here: {cgroup_problem()}")


def test_groups_are_capped_removed_and_stale_ones_swept() -> None:
    with submission_cgroups(processes=7, memory_bytes=2**30, cpus=0.5) as groups:
        parents = {group.parent for group in groups}
        caps = {path.name: path.read_text().strip() for group in groups for path in group.glob("*.max")}
        assert caps.get("pids.max") == "7"
        quotas = [group / "cpu.cfs_quota_us" for group in groups] + [group / "cpu.max" for group in groups]
        found = [path.read_text().split()[0] for path in quotas if path.exists()]
        assert found == ["50000"] if CPU_CONTROLLER else found == []
        stale = [parent / f"{PREFIX}999999999-0" for parent in parents]  # a pid no process has
        alive = [parent / f"{PREFIX}{os.getppid()}-0" for parent in parents]  # a grader still running
        for group in stale + alive:
            group.mkdir()
    try:
        assert not [group for group in groups if group.exists()]
        with submission_cgroups(processes=7, memory_bytes=2**30, cpus=1.0):
            pass
        assert not [group for group in stale if group.exists()]
        assert all(group.exists() for group in alive)
    finally:
        for group in stale + alive:
            if group.exists():
                group.rmdir()


@pytest.mark.skipif(not CPU_CONTROLLER, reason="no cpu controller here")
def test_a_sandbox_that_forks_busy_processes_is_held_to_its_cpu_quota() -> None:
    """Two busy processes in a group of a tenth of a core: the kernel throttles the group. (At half a
    core the test passed or not with the machine's load: on two cores shared with a whole test suite,
    two processes may get no more than half a core in any period.)"""
    spin = f"{sys.executable} -c 'import time\nend = time.process_time() + 0.15\nwhile time.process_time() < end: pass'"
    with submission_cgroups(processes=7, memory_bytes=2**30, cpus=0.1) as groups:
        environment = {**os.environ, ENV: " ".join(map(str, groups))}
        subprocess.run(
            ["/bin/sh", "-c", JOIN, "sh", "/bin/sh", "-c", f"{spin} & {spin}; wait"], env=environment, check=True
        )
        (stat,) = [group / "cpu.stat" for group in groups if (group / "cpu.stat").exists()]
        throttled = dict(line.split() for line in stat.read_text().splitlines())
        assert int(throttled.get("nr_throttled", 0)) > 0, throttled
