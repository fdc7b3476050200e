"""The saved reference traces are what the reference solutions do now (tools/build.py records them)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from coursekit.chapters import trace_file
from coursekit.traces import dumps, from_json, reference_run, same_traces, to_json
from tools.build import recorded_traces
from tools.chapter_source import Chapter, chapters

WITH_PICTURES = [chapter for chapter in chapters() if recorded_traces(chapter) is not None]


def test_chapters_with_pictures_are_found() -> None:
    assert WITH_PICTURES, "no chapter has picture runs (coursekit/chapters/<topic>/pictures.py)"


@pytest.mark.parametrize("chapter", WITH_PICTURES, ids=lambda c: c.assignment)
def test_saved_traces_are_up_to_date(chapter: Chapter) -> None:
    saved = trace_file(chapter.topic)
    assert saved.is_file(), f"{saved.name} is missing: run `.venv/bin/python tools/build.py {chapter.assignment[:4]}`"
    recorded = recorded_traces(chapter)
    assert recorded is not None
    assert same_traces(saved.read_text(encoding="utf-8"), recorded), (
        f"{saved.name} is stale (the reference or a picture run changed): "
        f"run `.venv/bin/python tools/build.py {chapter.assignment[:4]}`"
    )


def test_a_trace_survives_the_round_trip() -> None:
    run = reference_run("producer_consumer", "pipeline_run")
    again = from_json(to_json(run))
    assert (again.outcome, again.elapsed, again.value) == (run.outcome, run.elapsed, run.value)
    assert again.events == run.events
    assert any(isinstance(event["item"], int) for event in run.of_kind("work.start"))


def test_an_unknown_trace_names_the_fix() -> None:
    with pytest.raises(KeyError, match="rebuild the chapter"):
        reference_run("producer_consumer", "no_such_run")


def test_traces_differing_in_more_than_simultaneous_order_are_not_the_same() -> None:
    run = reference_run("producer_consumer", "pipeline_run")
    text = dumps({"pipeline_run": run})
    first, second = run.events[0], run.events[1]
    assert first.time == second.time
    run.events[0], run.events[1] = second, first
    assert same_traces(text, dumps({"pipeline_run": run})), "the order within one instant should not matter"
    run.events[-1] = replace(run.events[-1], time=(run.events[-1].time or 0.0) + 1.0)
    assert not same_traces(text, dumps({"pipeline_run": run})), "an event at another time is a different run"
