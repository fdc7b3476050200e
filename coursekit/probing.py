"""Probes: what decides a graded test cell's score, judged outside the learner's process.

A graded cell's checks run in the learner's kernel, where the learner's code could rewrite
them; they explain, they do not decide. Each graded cell also has a :class:`Probe`:

1. the grader sends the cell's recorded scenarios (the same in every run, at least 50 an
   exercise) and a few drawn fresh for every grading run (:meth:`Probe.scenarios`, from a seed
   that never enters the sandbox);
2. the kernel runs the learner's code on them and reports only what it observed
   (:func:`report`, run by the grader right after the test cell);
3. the grader compares them with the reference solution's observations (:meth:`Probe.differs`):
   recorded with the recorded scenarios, and made for the fresh ones in a process that never
   runs learner code.

An observation that agrees, on scenarios no one knew before the run, takes code that
solves the exercise: forging the report is no shortcut. A cell scores only when its checks
pass *and* its probe agrees.

An observation is plain JSON (numbers, strings, lists, dicts, True/False/None); floats are
rounded to :data:`DIGITS` decimals, so two correct designs that reach the same value by
different arithmetic agree. :func:`outcome` turns a call that raised or hung into an
observation too, so a scenario never stops the others.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias, overload

from coursekit import chapters
from coursekit.virtual_time import VirtualRun

DIGITS = 6
MIME = "application/vnd.asyncio-course.observations+json"
SHOWN_CHARACTERS = 300  # of an observation, in a message

JSON: TypeAlias = None | bool | int | float | str | list["JSON"] | dict[str, "JSON"]
# One hidden scenario, as ``draw`` makes it: a JSON object, whose values the probe that drew it
# reads by key (a scenario may nest other probes' scenarios).
Scenario: TypeAlias = dict[str, Any]
Observation: TypeAlias = JSON  # what ``observe`` returned, made plain JSON by :func:`canonical`
# A namespace the code under test is found in by name (the kernel's, or the reference's): its
# values are whatever the learner's cells defined.
Names: TypeAlias = Mapping[str, Any]


@dataclass(frozen=True)
class Probe:
    """A graded cell's hidden scenarios.

    ``draw(rng)`` makes one scenario (a JSON dict; it runs in the grader). ``observe(names,
    scenario)`` runs the code under test, found by name in ``names`` (the kernel's namespace,
    or the reference's), on that scenario and returns what the statement fixes (it may raise:
    that is observed too). ``judge(scenario, observed, expected)``, when given, replaces
    equality: it returns what is wrong with ``observed`` (one line), or None; use it where
    the statement allows more than one answer (a random draw within bounds).
    Per grading run, after the cell's recorded scenarios (``autograder/reference_observations``,
    which start with the edges): one scenario from each of ``edges`` (draws of a boundary the
    statement names, such as no items or one), then ``count`` fresh ones from ``draw``."""

    draw: Callable[[random.Random], Scenario]
    observe: Callable[[Names, Scenario], object]
    count: int = 3
    judge: Callable[[Scenario, Observation, Observation], str | None] | None = None
    edges: tuple[Callable[[random.Random], Scenario], ...] = ()

    def scenarios(self, rng: random.Random) -> list[Scenario]:
        return [canonical(edge(rng)) for edge in self.edges] + [canonical(self.draw(rng)) for _ in range(self.count)]

    def run(self, names: Names, scenario: Scenario) -> Observation:
        """The observation of one scenario; an error or a hang is an observation too."""
        try:
            return canonical(self.observe(names, scenario))
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # noqa: BLE001  (the learner's code may raise anything)
            return {"raised": type(error).__name__}

    def differs(self, scenario: Scenario, observed: Observation, expected: Observation) -> str | None:
        """What is wrong with ``observed`` (one line), or None when it agrees with ``expected``."""
        if self.judge is not None and not _raised(expected):
            return None if observed == expected else self.judge(scenario, observed, expected)
        if observed == expected:
            return None
        return f"observed {shown(observed)}, the statement gives {shown(expected)}"


def _raised(observation: Observation) -> bool:
    return isinstance(observation, dict) and set(observation) == {"raised"}


@overload
def canonical(value: Mapping[str, object]) -> dict[str, JSON]: ...
@overload
def canonical(value: object) -> JSON: ...
def canonical(value: object) -> JSON:
    """``value`` as plain JSON with floats rounded to :data:`DIGITS` decimals (tuples become lists)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return round(value, DIGITS) + 0.0 if value == value and abs(value) != float("inf") else repr(value)
    if isinstance(value, Mapping):
        return {str(key): canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(item) for item in value]
    raise TypeError(f"an observation holds a {type(value).__name__}, not plain JSON")


def outcome(run: VirtualRun[Any]) -> dict[str, object]:
    """A virtual run as an observation: its value, or how it did not return."""
    if run.outcome == "returned":
        return {"returned": run.value}
    if run.outcome == "raised":
        return {"raised": type(run.error).__name__}
    return {run.outcome: True}


def shown(observation: Observation) -> str:
    text = json.dumps(observation)
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 1] + "…"


def probes_of(topic: str) -> dict[str, Probe]:
    """Graded cell id -> probe, for the chapter on ``topic`` (``coursekit.chapters.<topic>.probes``)."""
    module = chapters.part(topic, "probes")
    return dict(module.PROBES)


def observations(topic: str, cell: str, names: Names, scenarios: list[Scenario]) -> list[Observation]:
    """The observations of ``cell``'s probe on ``scenarios``, with the code found in ``names``."""
    probe = probes_of(topic)[cell]
    return [probe.run(names, scenario) for scenario in scenarios]


def report(topic: str, cell: str, scenarios_json: str) -> None:
    """In the grading kernel: observe the learner's code on the scenarios and display the
    observations (the grader reads them from this cell's output, then removes the cell)."""
    from IPython import get_ipython
    from IPython.display import display

    names = get_ipython().user_ns
    found = observations(topic, cell, names, json.loads(scenarios_json))
    display({MIME: {"cell": cell, "observations": found}}, raw=True)


def rerun(topic: str, cell: str, scenario: Scenario, names: Names | None = None) -> Observation:
    """What your code gives on one scenario of a grading report (``names``: your notebook's, by default)."""
    if names is None:
        from IPython import get_ipython

        names = get_ipython().user_ns
    return probes_of(topic)[cell].run(names, canonical(scenario))
