"""Every graded cell has a probe (coursekit/probing.py), and each probe tells solved from unsolved.

For each chapter: the reference agrees with itself (its observations are deterministic); every
exercise has at least 50 recorded scenarios (autograder/reference_observations/), and the
recording is what the reference observes now; the untouched release (nbgrader's stubs)
disagrees on at least one scenario of every probe, so unsolved work scores 0 whatever the
kernel reports; every correct alternative agrees with the reference on every probe of a cell
that uses it, recorded scenarios and fresh ones; and a probe is no stricter than its cell's
checks: on a wrong implementation (tests/wrong_implementations/) whose bug belongs to another
cell, a cell whose checks pass is not failed by its probe, so the score stays the true one; and
the probes alone catch 95% of the wrong implementations of each chapter: the score a forger of
the checks gets.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograder import reference_observations
from autograder.hidden_scenarios import prepare, verdict
from coursekit.probing import Probe, observations, probes_of, rerun
from coursekit.statements import exercises
from tests.graded_cells import defined_names, graded_cell_run, graded_cells_using, graded_namespace, is_test
from tests.test_release_placeholders import released_answers
from tests.wrong_cases import wrong_cases
from tools.chapter_source import Chapter, chapters, chapters_by_topic

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = [pytest.param(chapter, id=chapter.topic) for chapter in chapters()]
ALTERNATIVES = sorted(ROOT.glob("tests/correct_alternatives/*/*.py"))
SEEDS = (1, 2)


def graded_ids(chapter: Chapter) -> list[str]:
    notebook = nbformat.read(chapter.notebook, as_version=4)
    return [cell.metadata["nbgrader"]["grade_id"] for cell in notebook.cells if is_test(cell)]


def namespace_with(chapter: Chapter, code: str, label: str) -> dict[str, Any]:
    return graded_namespace(chapter, nbformat.read(chapter.notebook, as_version=4), code, label)


def rerun_in(names: dict[str, Any]) -> Callable[..., Any]:
    """``rerun`` as a learner calls it in their notebook, with ``names`` as the notebook's namespace."""
    return lambda topic, cell, scenario: rerun(topic, cell, scenario, names)


def disagreements(probe: Probe, seed: int, names: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    """What differs, scenario by scenario, between ``names`` and the reference."""
    scenarios = probe.scenarios(random.Random(seed))
    return differences(probe, names, (scenarios, [probe.run(reference, scenario) for scenario in scenarios]))


def differences(
    probe: Probe, names: dict[str, Any], made: tuple[list[dict[str, Any]], list[Any]], *, first: bool = False
) -> list[str]:
    """What differs between ``names``' observations and the expected ones, given ``made``: (scenarios,
    expected); with ``first``, only the first difference (the scenarios after it are not run)."""
    scenarios, expected = made
    found = []
    for scenario, wanted in zip(scenarios, expected, strict=True):
        with contextlib.redirect_stdout(io.StringIO()):
            why = probe.differs(scenario, probe.run(names, scenario), wanted)
        if why:
            found.append(f"{scenario}: {why}")
            if first:
                break
    return found


@functools.cache
def reference_observations_of(topic: str, grade_id: str, seed: int) -> tuple[list[dict[str, Any]], list[Any]]:
    """A cell's scenarios for ``seed`` and the reference's observations of them (made once per test run)."""
    chapter = chapters_by_topic()[topic]
    probe = probes_of(topic)[grade_id]
    scenarios = probe.scenarios(random.Random(seed))
    reference = namespace_with(chapter, "", f"reference for {grade_id}")
    return scenarios, [probe.run(reference, scenario) for scenario in scenarios]


@functools.cache
def recorded(topic: str) -> reference_observations.Recorded:
    return reference_observations.load(topic)


def hidden_observations(topic: str, grade_id: str) -> tuple[list[dict[str, Any]], list[Any]]:
    """What a grading run tries on ``grade_id``: its recorded scenarios, then fresh ones (seed 1), with
    the reference's observations."""
    scenarios, observed = recorded(topic)[grade_id]
    fresh, expected = reference_observations_of(topic, grade_id, SEEDS[0])
    return scenarios + fresh, observed + expected


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_exercise_has_fifty_recorded_scenarios(chapter: Chapter) -> None:
    notebook = nbformat.read(chapter.notebook, as_version=4)
    saved = recorded(chapter.topic)
    for exercise in exercises(notebook.cells):
        cells = [cell["metadata"]["nbgrader"]["grade_id"] for cell in exercise.graded]
        count = sum(len(saved[cell][0]) for cell in cells)
        assert count >= reference_observations.PER_EXERCISE, f"{exercise.title}: {count} recorded scenarios"
        for cell in cells:
            distinct = {json.dumps(scenario, sort_keys=True) for scenario in saved[cell][0]}
            assert len(distinct) == len(saved[cell][0]), f"{cell}: a recorded scenario is there twice"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_recorded_observations_are_what_the_reference_observes_now(chapter: Chapter) -> None:
    """The recording follows the probes and the reference: rebuild the chapter when either changes."""
    notebook = nbformat.read(chapter.notebook, as_version=4)
    reference = namespace_with(chapter, "", "reference")
    drawn = reference_observations.draw_all(chapter.topic, json.loads(nbformat.writes(notebook)))
    saved = recorded(chapter.topic)
    assert set(saved) == set(drawn) == set(graded_ids(chapter))
    again = f"tools/build.py --observations-only {chapter.assignment[:4]}"
    stale = f"the recording of {chapter.topic} is stale: record it again ({again})"
    for cell, probe in probes_of(chapter.topic).items():
        scenarios, observed = saved[cell]
        assert scenarios == drawn[cell], f"{cell}: {stale}"
        with contextlib.redirect_stdout(io.StringIO()):
            now = [probe.run(reference, scenario) for scenario in scenarios]
        assert now == observed, f"{cell}: {stale}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_graded_cell_has_a_probe(chapter: Chapter) -> None:
    assert set(probes_of(chapter.topic)) == set(graded_ids(chapter))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_reference_agrees_with_itself(chapter: Chapter) -> None:
    second = namespace_with(chapter, "", "reference, again")
    for cell, probe in probes_of(chapter.topic).items():
        scenarios, observed = reference_observations_of(chapter.topic, cell, SEEDS[0])
        assert not differences(probe, second, (scenarios, observed)), f"{cell}: the reference is not deterministic"
        assert any(not (isinstance(o, dict) and "raised" in o) for o in observed), f"{cell}: the reference only raises"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_untouched_release_disagrees_on_every_probe(chapter: Chapter) -> None:
    notebook = nbformat.read(chapter.notebook, as_version=4)
    release = namespace_with(chapter, released_answers(notebook), f"{chapter.assignment} release")
    reference = namespace_with(chapter, "", "reference")
    for cell, probe in probes_of(chapter.topic).items():
        assert disagreements(probe, SEEDS[0], release, reference), f"{cell}: the untouched release agrees"


@pytest.mark.parametrize("path", ALTERNATIVES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_correct_alternative_agrees_with_the_reference(path: Path) -> None:
    chapter = chapters_by_topic()[path.parent.name]
    code = path.read_text(encoding="utf-8")
    names = namespace_with(chapter, code, str(path))
    notebook = nbformat.read(chapter.notebook, as_version=4)
    probes = probes_of(chapter.topic)
    for cell in graded_cells_using(notebook, defined_names(code)):
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        for made in (
            hidden_observations(chapter.topic, grade_id),
            reference_observations_of(chapter.topic, grade_id, SEEDS[1]),
        ):
            found = differences(probes[grade_id], names, made)
            assert not found, f"{grade_id} rejects {path.name}:\n" + "\n".join(found[:3])


def test_the_grader_fails_a_cell_whose_scenarios_disagree_and_names_one_to_rerun() -> None:
    """The grader's side (autograder/hidden_scenarios.py): the reference observes in a process of its
    own; observations that agree pass; missing ones fail; the first disagreement is named as a
    ``rerun(...)`` call that, run in the learner's namespace, gives what the learner's code gave."""
    chapter = chapters_by_topic()["asyncio_in_jupyter"]
    notebook = nbformat.read(chapter.notebook, as_version=4)
    cell = "ch00-countdown-tests"
    hidden = prepare(chapter.topic, dict(notebook), [cell], seed=7)
    reference = namespace_with(chapter, "", "reference")
    assert verdict(hidden, cell, observations(chapter.topic, cell, reference, hidden.scenarios[cell])) is None
    assert "did not report" in (verdict(hidden, cell, None) or "")
    learner = namespace_with(chapter, "async def countdown(n, delay):\n    return [0.0] * n\n", "learner")
    observed = observations(chapter.topic, cell, learner, hidden.scenarios[cell])
    count = hidden.recorded[cell]
    assert count > 0 and hidden.scenarios[cell][:count] == recorded(chapter.topic)[cell][0]
    why = verdict(hidden, cell, observed)
    assert why is not None and f"hidden scenario 1 of the {count} this test always tries" in why and "Hint:" in why
    call = re.search(r"from coursekit\.probing import rerun; (rerun\(.*?\))\. Hint", why)
    assert call is not None, why
    rerun_observation = eval(call.group(1).replace("rerun(", "rerun_in(", 1), {"rerun_in": rerun_in(learner)})
    assert json.dumps(rerun_observation) in why
    agreeing_on_recorded = hidden.expected[cell][:count] + observed[count:]
    assert "a hidden scenario drawn for this grading run" in (verdict(hidden, cell, agreeing_on_recorded) or "")


PROBES_CATCH_SHARE = 0.95  # of a chapter's wrong implementations, caught by its hidden scenarios alone


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_probes_catch_wrong_implementations_and_fail_no_cell_whose_checks_pass(
    chapter: Chapter, capsys: pytest.CaptureFixture[str]
) -> None:
    """On each wrong implementation, for each graded cell that uses its code, on the cell's recorded
    scenarios (every grading run tries them; its fresh ones come from the same draws): where the
    cell's checks pass, the probe agrees, so an honest mistake costs its own cells only; where they
    fail, the probe should disagree too, since it alone decides when the checks are forged. The
    share of cases some probe catches is printed and kept."""
    notebook = nbformat.read(chapter.notebook, as_version=4)
    probes = probes_of(chapter.topic)
    cases = wrong_cases(chapter.topic)
    stricter, missed = [], []
    for case in cases:
        caught = False
        for cell in graded_cells_using(notebook, defined_names(case.code)):
            grade_id = cell.metadata["nbgrader"]["grade_id"]
            made = recorded(chapter.topic)[grade_id]
            failure, names = graded_cell_run(chapter, notebook, cell, case.code, case.filename)
            if failure is not None:
                caught = caught or bool(differences(probes[grade_id], names, made, first=True))
                continue
            found = differences(probes[grade_id], names, made)
            if found:
                stricter.append(f"{case.name} on {grade_id}: {found[0][:300]}")
        if not caught:
            missed.append(case.name)
    assert not stricter, "probes stricter than their cells' checks:\n" + "\n".join(stricter)
    share = 1 - len(missed) / len(cases)
    with capsys.disabled():
        print(
            f"\n{chapter.topic}: the recorded hidden scenarios alone catch {len(cases) - len(missed)} "
            f"of {len(cases)} ({share:.0%})"
        )
    assert share >= PROBES_CATCH_SHARE, (
        f"{share:.0%} caught by the probes, under {PROBES_CATCH_SHARE:.0%}; missed: {missed}"
    )
