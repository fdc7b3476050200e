"""Recorded hidden scenarios: for every exercise, at least :data:`PER_EXERCISE` seeded scenarios
with the reference's observations of them, kept on the grader's side.

Each graded cell's probe (:mod:`coursekit.probing`) draws its share of its exercise's scenarios
from a seed made of the cell's id alone (its edges first), so the set is the same on every
machine and in every grading run. ``tools/build.py`` records them with the reference
(:func:`record`) into ``autograder/reference_observations/<topic>.json``, one scenario and its
observation per line. That folder is not in ``coursekit/`` (the package learners import,
whose picture traces are public) nor in ``autograder/inside/`` (the only part of the grader a
sandbox sees): the answers stay apart from everything a learner's code can read.

A grading run sends each cell's recorded scenarios into the sandbox first, then the ones it
draws fresh (:mod:`autograder.hidden_scenarios`): the recorded ones cover the statement's input
space the same way for everyone, the fresh ones keep a score from being learned by heart.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

from autograder.chapters import REPO_ROOT
from autograder.reference_run import expected_observations
from coursekit.probing import Observation, Scenario, canonical, probes_of
from coursekit.statements import exercises

PER_EXERCISE = 50  # recorded scenarios an exercise has at least, shared out among its graded cells
DRAWS_PER_SCENARIO = 20  # draws tried per recorded scenario wanted, before a cell settles for fewer
FOLDER = REPO_ROOT / "autograder" / "reference_observations"

Recorded = dict[str, tuple[list[Scenario], list[Observation]]]  # grade id -> (scenarios, observations)


def path_of(topic: str) -> Path:
    return FOLDER / f"{topic}.json"


def shares(notebook: dict[str, Any]) -> dict[str, int]:
    """How many recorded scenarios each graded cell of ``notebook`` (as JSON) draws: its exercise's
    :data:`PER_EXERCISE`, shared out evenly (rounded up) among the exercise's graded cells."""
    found: dict[str, int] = {}
    for exercise in exercises(notebook["cells"]):
        for cell in exercise.graded:
            found[cell["metadata"]["nbgrader"]["grade_id"]] = math.ceil(PER_EXERCISE / len(exercise.graded))
    return found


def recorded_scenarios(topic: str, cell: str, count: int) -> list[Scenario]:
    """``count`` distinct scenarios of ``cell``'s probe, drawn from the seed ``recorded:<cell>``: its
    edges, then draws (fewer when the probe's draws have fewer than ``count`` distinct values)."""
    probe = probes_of(topic)[cell]
    rng = random.Random(f"recorded:{cell}")
    drawn = [canonical(edge(rng)) for edge in probe.edges]
    found = {json.dumps(scenario, sort_keys=True): scenario for scenario in drawn}
    for _ in range(DRAWS_PER_SCENARIO * count):
        if len(found) >= count:
            break
        scenario = canonical(probe.draw(rng))
        found.setdefault(json.dumps(scenario, sort_keys=True), scenario)
    return list(found.values())[:count]


def draw_all(topic: str, notebook: dict[str, Any]) -> dict[str, list[Scenario]]:
    """Every graded cell's recorded scenarios (the reference has yet to observe them)."""
    return {cell: recorded_scenarios(topic, cell, count) for cell, count in shares(notebook).items()}


def record(topic: str, notebook: dict[str, Any]) -> str:
    """The file's text as the reference observes the recorded scenarios now (in a process of its own)."""
    scenarios = draw_all(topic, notebook)
    observed = expected_observations(topic, notebook, scenarios)
    return dumps({cell: (scenarios[cell], observed[cell]) for cell in scenarios})


def dumps(recorded: Recorded) -> str:
    """The file's text: per cell, one ``[scenario, observation]`` per line, so a change reads as a diff."""
    blocks = []
    for cell, (scenarios, observed) in recorded.items():
        pairs = zip(scenarios, observed, strict=True)
        lines = ",\n".join(f"    {json.dumps([scenario, seen], sort_keys=True)}" for scenario, seen in pairs)
        blocks.append(f"  {json.dumps(cell)}: [\n{lines}\n  ]")
    return "{\n" + ",\n".join(blocks) + "\n}\n"


def load(topic: str) -> Recorded:
    """The recorded scenarios and observations of the chapter on ``topic``."""
    path = path_of(topic)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path.relative_to(REPO_ROOT)} is missing: record the reference's observations with "
            f"`.venv/bin/python tools/build.py --observations-only chNN` for this chapter"
        )
    pairs: dict[str, list[list[Any]]] = json.loads(path.read_text(encoding="utf-8"))
    return {cell: ([s for s, _ in rows], [o for _, o in rows]) for cell, rows in pairs.items()}
