"""Per-submission control groups: made with their caps, removed afterwards, and groups that an
ended grader left behind are swept away (never those of a grader still running)."""

from __future__ import annotations

import os

import pytest

from autograder.cgroups import PREFIX, cgroup_problem, submission_cgroups

pytestmark = pytest.mark.skipif(cgroup_problem() is not None, reason=f"no control groups here: {cgroup_problem()}")


def test_groups_are_capped_removed_and_stale_ones_swept() -> None:
    with submission_cgroups(processes=7, memory_bytes=2**30) as groups:
        parents = {group.parent for group in groups}
        caps = {path.name: path.read_text().strip() for group in groups for path in group.glob("*.max")}
        assert caps.get("pids.max") == "7"
        stale = [parent / f"{PREFIX}999999999-0" for parent in parents]  # a pid no process has
        alive = [parent / f"{PREFIX}{os.getppid()}-0" for parent in parents]  # a grader still running
        for group in stale + alive:
            group.mkdir()
    try:
        assert not [group for group in groups if group.exists()]
        with submission_cgroups(processes=7, memory_bytes=2**30):
            pass
        assert not [group for group in stale if group.exists()]
        assert all(group.exists() for group in alive)
    finally:
        for group in stale + alive:
            if group.exists():
                group.rmdir()
