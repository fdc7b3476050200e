"""The hidden scenarios of a grading run, and the verdict the grader makes from them.

Per batch, :func:`draw` draws each graded cell's scenarios from a fresh seed, and
:func:`expected_observations` has the reference observe them (:mod:`autograder.reference_run`,
in a process that never runs learner code). The scenarios go into the sandbox as one
extra cell after each graded cell (:func:`probe_cells`); what the learner's code observed
comes back, and :func:`verdict` compares it with the reference's. The expected
observations never enter the sandbox.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from autograder.chapters import REPO_ROOT
from coursekit.probing import Observation, Scenario, probes_of

if TYPE_CHECKING:
    from autograder.reference_run import ReferenceJob

PROBE_CELL_PREFIX = "hidden-scenarios-"
REFERENCE_SECONDS = 300
HINT = (
    "the cell's own checks passed, so look in this scenario for what they did not try: a boundary "
    "(0, 1, empty, a time exactly on a limit), a start time other than 0, a second call on the same object"
)


@dataclass(frozen=True)
class HiddenScenarios:
    """One chapter's scenarios for a batch, and the reference's observations of them (cell id -> list)."""

    topic: str
    seed: int
    scenarios: dict[str, list[Scenario]]
    expected: dict[str, list[Observation]]


class ProbeCell(TypedDict):
    """A cell the runner runs right after a graded cell (:func:`probe_cells`)."""

    after: str  # the graded cell's id
    id: str  # its own cell id
    source: str


def draw(topic: str, cells: list[str], seed: int) -> dict[str, list[Scenario]]:
    """Each graded cell's scenarios; a cell's draw depends only on the seed and its id."""
    probes = probes_of(topic)
    return {cell: probes[cell].scenarios(random.Random(f"{seed}:{cell}")) for cell in cells}


def expected_observations(
    topic: str, notebook: dict[str, Any], scenarios: dict[str, list[Scenario]]
) -> dict[str, list[Observation]]:
    """The reference's observations of ``scenarios``, made in a process of its own."""
    reference_job: ReferenceJob = {"topic": topic, "notebook": notebook, "scenarios": scenarios}
    job = json.dumps(reference_job)
    done = subprocess.run(
        [sys.executable, "-m", "autograder.reference_run"],
        input=job,
        capture_output=True,
        text=True,
        timeout=REFERENCE_SECONDS,
        cwd=REPO_ROOT,  # where solutions/ is: the reference is the instructor's, never installed
    )
    if done.returncode != 0:
        raise RuntimeError(f"the reference could not observe {topic}'s hidden scenarios:\n{done.stderr[-3000:]}")
    found: dict[str, list[Observation]] = json.loads(done.stdout)
    return found


def prepare(topic: str, notebook: dict[str, Any], cells: list[str], seed: int) -> HiddenScenarios:
    scenarios = draw(topic, cells, seed)
    return HiddenScenarios(topic, seed, scenarios, expected_observations(topic, notebook, scenarios))


def probe_cells(hidden: HiddenScenarios, cell_ids: dict[str, str]) -> list[ProbeCell]:
    """The cells the runner runs right after each graded cell (``cell_ids``: grade id -> cell id)."""
    cells: list[ProbeCell] = []
    for n, (grade_id, scenarios) in enumerate(hidden.scenarios.items()):
        call = f"report({json.dumps(hidden.topic)}, {json.dumps(grade_id)}, {json.dumps(json.dumps(scenarios))})"
        source = f"__import__('coursekit.probing').probing.{call}"
        cells.append({"after": cell_ids[grade_id], "id": f"{PROBE_CELL_PREFIX}{n}", "source": source})
    return cells


def verdict(hidden: HiddenScenarios, grade_id: str, observed: object) -> str | None:
    """Why ``grade_id``'s observations do not agree with the reference's (the first scenario
    that differs, as a call to rerun), or None when they all agree."""
    probe = probes_of(hidden.topic)[grade_id]
    scenarios, expected = hidden.scenarios[grade_id], hidden.expected[grade_id]
    if not isinstance(observed, list) or len(observed) != len(scenarios):
        return (
            "the hidden scenarios of this test did not report (your code stopped the kernel, "
            "or changed how a notebook shows its outputs)"
        )
    for scenario, seen, wanted in zip(scenarios, observed, expected, strict=True):
        why = probe.differs(scenario, seen, wanted)
        if why:
            rerun = f"rerun({hidden.topic!r}, {grade_id!r}, {scenario!r})"
            return (
                f"on a hidden scenario drawn for this grading run, {why}. "
                f"To see what your code does, run: from coursekit.probing import rerun; {rerun}. "
                f"Hint: {HINT}"
            )
    return None
