"""The hidden scenarios of a grading run, and the verdict the grader makes from them.

Each graded cell gets its recorded scenarios first (:mod:`autograder.reference_observations`:
fixed, at least 50 an exercise, with the reference's observations kept on the grader's side),
then scenarios that :func:`draw` makes from a fresh seed per batch, which the reference
observes in a process that never runs learner code (:func:`autograder.reference_run.expected_observations`).
The scenarios go into the sandbox as one extra cell after each graded cell (:func:`probe_cells`);
what the learner's code observed comes back, and :func:`verdict` compares it with the
reference's. The expected observations never enter the sandbox.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any, TypedDict

from autograder import reference_observations
from autograder.reference_run import expected_observations
from coursekit.probing import Observation, Scenario, probes_of

PROBE_CELL_PREFIX = "hidden-scenarios-"
HINT = (
    "the cell's own checks passed, so look in this scenario for what they did not try: a boundary "
    "(0, 1, empty, a time exactly on a limit), a start time other than 0, a second call on the same object"
)


@dataclass(frozen=True)
class HiddenScenarios:
    """One chapter's scenarios for a batch, and the reference's observations of them (cell id -> list).

    A cell's first ``recorded[cell]`` scenarios are its recorded ones; the rest were drawn for this batch."""

    topic: str
    seed: int
    scenarios: dict[str, list[Scenario]]
    expected: dict[str, list[Observation]]
    recorded: dict[str, int]


class ProbeCell(TypedDict):
    """A cell the runner runs right after a graded cell (:func:`probe_cells`)."""

    after: str  # the graded cell's id
    id: str  # its own cell id
    source: str


def draw(topic: str, cells: list[str], seed: int) -> dict[str, list[Scenario]]:
    """Each graded cell's scenarios; a cell's draw depends only on the seed and its id."""
    probes = probes_of(topic)
    return {cell: probes[cell].scenarios(random.Random(f"{seed}:{cell}")) for cell in cells}


def prepare(topic: str, notebook: dict[str, Any], cells: list[str], seed: int) -> HiddenScenarios:
    """``cells``' recorded scenarios, then fresh ones drawn from ``seed`` and observed by the reference now."""
    recorded = reference_observations.load(topic)
    missing = [cell for cell in cells if cell not in recorded]
    if missing:
        raise RuntimeError(
            f"{topic}'s recorded hidden scenarios have no cell {', '.join(missing)}: record them again "
            "with `.venv/bin/python tools/build.py --observations-only chNN` for this chapter"
        )
    fresh = draw(topic, cells, seed)
    observed = expected_observations(topic, notebook, fresh)
    return HiddenScenarios(
        topic,
        seed,
        scenarios={cell: recorded[cell][0] + fresh[cell] for cell in cells},
        expected={cell: recorded[cell][1] + observed[cell] for cell in cells},
        recorded={cell: len(recorded[cell][0]) for cell in cells},
    )


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
    for index, (scenario, seen, wanted) in enumerate(zip(scenarios, observed, expected, strict=True)):
        why = probe.differs(scenario, seen, wanted)
        if why:
            recorded = hidden.recorded[grade_id]
            which = (
                f"hidden scenario {index + 1} of the {recorded} this test always tries"
                if index < recorded
                else "a hidden scenario drawn for this grading run"
            )
            rerun = f"rerun({hidden.topic!r}, {grade_id!r}, {scenario!r})"
            return (
                f"on {which}, {why}. "
                f"To see what your code does, run: from coursekit.probing import rerun; {rerun}. "
                f"Hint: {HINT}"
            )
    return None
