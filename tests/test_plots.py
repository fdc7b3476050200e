"""Series the pictures are drawn from, and what the pictures draw: every mark in their legends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from coursekit.analysis import busy_intervals
from coursekit.chapters.producer_consumer.analysis import queue_depth
from coursekit.events import Event
from coursekit.virtual_time import VirtualRun

matplotlib.use("Agg")


def event(time: float, kind: str, task: str = "t", **fields: object) -> Event:
    return Event(time, kind, task, fields)


def test_queue_depth_keeps_the_last_depth_of_each_instant() -> None:
    events = [
        event(1.0, "queue.put", depth=1, item=1),
        event(1.0, "queue.get", depth=0, item=1),
        event(2.0, "queue.put", depth=1, item=2),
        event(2.5, "work.start", item=2),
    ]
    assert queue_depth(events) == ([0.0, 1.0, 2.0], [0, 0, 1])


def test_busy_intervals_pair_start_and_end_per_task_and_item() -> None:
    events = [
        event(0, "work.start", "c1", item=1),
        event(0, "work.start", "c2", item=2),
        event(1, "work.end", "c1", item=1, outcome="done"),
        event(3, "work.end", "c2", item=2, outcome="failed"),
    ]
    assert busy_intervals(events) == {"c1": [(0, 1, "done")], "c2": [(0, 3, "failed")]}


def test_in_flight_counts_running_work_per_instant() -> None:
    from coursekit.analysis import in_flight, peak_in_flight

    events = [
        event(0, "work.start", item=1),
        event(0, "work.start", item=2),
        event(1, "work.end", item=1),
        event(1, "work.start", item=3),
        event(2, "work.end", item=2),
        event(2, "work.end", item=3),
    ]
    assert in_flight(events) == ([0.0, 1, 2], [2, 2, 0])
    assert peak_in_flight(events) == 2


# ------------------------------------------------------------------ pictures: every mark in the legend


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Figure]]:
    """The figures the pictures show, kept (they close them after plt.show())."""
    figures: list[Figure] = []
    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: figures.append(plt.gcf()))
    yield figures
    plt.close("all")


def run_of(events: list[Any], elapsed: float) -> VirtualRun[Any]:
    return VirtualRun(outcome="returned", value=None, error=None, events=events, elapsed=elapsed, deadline=elapsed)


def legend_texts(figure: Figure) -> list[str]:
    """Every label in the figure's legends, its axes' legends included."""
    legends = [*figure.legends, *(ax.get_legend() for ax in figure.axes)]
    return [text.get_text() for legend in legends if legend is not None for text in legend.get_texts()]


def collection_labelled(ax: Any, label: str) -> Any:
    (found,) = [collection for collection in ax.collections if collection.get_label() == label]
    return found


def test_breaker_periods_keep_half_open_periods_of_no_length() -> None:
    from coursekit.chapters.circuit_breaker.analysis import breaker_bands, breaker_periods

    events = [
        event(10.0, "breaker.state", old="closed", new="open"),
        event(20.0, "breaker.state", old="open", new="half_open"),
        event(20.0, "breaker.state", old="half_open", new="open"),  # a trial that failed at once
        event(30.0, "breaker.state", old="open", new="half_open"),
        event(30.5, "breaker.state", old="half_open", new="closed"),
        event(40.0, "breaker.state", old="closed", new="open"),
        event(45.0, "breaker.state", old="open", new="half_open"),
    ]
    assert breaker_periods(events, "half_open", end=50.0) == [(20.0, 20.0), (30.0, 30.5), (45.0, 50.0)]
    assert breaker_periods(events, "open", end=50.0) == [(10.0, 20.0), (20.0, 30.0), (40.0, 45.0)]
    assert [band for band in breaker_bands(events, end=50.0) if band[2] == "half_open"] == [
        (30.0, 30.5, "half_open"),
        (45.0, 50.0, "half_open"),
    ]


def test_breaker_picture_shows_every_half_open_period_and_has_every_mark_in_its_legend(
    shown: list[Figure],
) -> None:
    from coursekit.chapters.circuit_breaker.analysis import breaker_periods
    from coursekit.chapters.circuit_breaker.pictures import OUTAGES
    from coursekit.chapters.circuit_breaker.plots import (
        SHORTEST_PERIOD,
        STATE_COLOURS,
        half_open_mark_label,
        show_breaker_states,
    )
    from coursekit.traces import reference_run

    run = reference_run("circuit_breaker", "breaker_run")
    periods = breaker_periods(run.events, "half_open", end=run.elapsed)
    assert len(periods) == 3 and sum(end - start for start, end in periods) < 1.0  # two of no length
    show_breaker_states({"yours": run, "reference": run}, outages=OUTAGES)
    (figure,) = shown
    shortest = SHORTEST_PERIOD * run.elapsed
    for ax in figure.axes:
        marks = collection_labelled(ax, half_open_mark_label(shortest))
        assert len(marks.get_offsets()) == len(periods)
        orange = [patch for patch in ax.patches if patch.get_facecolor()[:3] == to_rgb(STATE_COLOURS["half_open"])]
        assert len(orange) == len(periods)
        assert all(patch.get_extents().width > 3 for patch in orange), "a half-open period drawn too thin to see"
    texts = legend_texts(figure)
    for label in ("closed", "open", "half open", half_open_mark_label(shortest), "service down (outage)"):
        assert label in texts
    assert any("answered" in text for text in texts)
    assert any("failed" in text for text in texts)
    assert any("rejected" in text for text in texts)


def test_dashboard_counts_fallbacks_per_second_and_has_every_mark_in_its_legend(shown: list[Figure]) -> None:
    from coursekit.chapters.circuit_breaker.plots import SHORTEST_PERIOD, half_open_mark_label
    from coursekit.chapters.resilient_client.analysis import fallbacks_per_bin
    from coursekit.chapters.resilient_client.pictures import OUTAGES
    from coursekit.chapters.resilient_client.plots import fallback_label, show_dashboard
    from coursekit.traces import reference_run

    run = reference_run("resilient_client", "dashboard_run")
    fallbacks = sum(1 for e in run.of_kind("call.end") if e["outcome"] == "fallback")
    assert run.value is not None and fallbacks == run.value["fallback"] > 0
    _, counts = fallbacks_per_bin(run.events, run.elapsed, 1.0)
    assert sum(counts) == fallbacks and max(counts) < fallbacks  # spread over several seconds
    show_dashboard({"reference": run}, outages=OUTAGES)
    (figure,) = shown
    texts = legend_texts(figure)
    for label in (
        "closed",
        "open",
        "half open",
        half_open_mark_label(SHORTEST_PERIOD * run.elapsed),
        fallback_label(1.0),
        "service down (outage)",
    ):
        assert label in texts
    assert any(text.startswith("p50") for text in texts) and any(text.startswith("p99") for text in texts)
    # the fallbacks: a bar per second on the breaker panel's right axis (the figure's last axes), not ticks
    right = figure.axes[-1]
    heights = [patch.get_height() for patch in right.patches if isinstance(patch, Rectangle)]
    assert len(heights) == len(right.patches)
    assert sum(heights) == fallbacks
    assert not right.collections


def test_admissions_picture_names_its_window(shown: list[Figure]) -> None:
    from coursekit.chapters.rate_limiting.analysis import Window, busiest_window, most_in_any_window
    from coursekit.chapters.rate_limiting.plots import show_admissions

    times = [0.0, 0.5, 0.875, 0.875, 1.0, 1.0, 1.25, 2.5]
    events = [event(when, "limiter.request") for when in times]
    events += [event(when, "limiter.admitted", amount=1, waited=0.0) for when in times[1:]]
    assert busiest_window(times[1:], 1.0) == Window(0.5, 1.25, 6)
    assert most_in_any_window(times[1:], 1.0) == 6
    show_admissions({"a limiter": run_of(events, 3.0)}, width=1.0, limit=5)
    (figure,) = shown
    (ax,) = figure.axes
    assert "1 s" in figure.get_suptitle() and "1 s" in ax.get_xlabel()
    assert sorted(legend_texts(figure)) == [
        "admitted, per 1 s bin",
        "asked, per 1 s bin",
        "limit: 5 per 1 s window",
        "the busiest 1 s window, at any start",
    ]
    assert "at most 6\nin any 1 s" in [text.get_text() for text in ax.texts]


def test_latency_pictures_label_their_guide_lines(shown: list[Figure]) -> None:
    from coursekit.chapters.latency_statistics.plots import show_cdf, show_latency_histogram

    values = [0.001 * n for n in range(1, 101)]
    show_latency_histogram({"a service": values})
    show_cdf({"a service": values})
    histogram, cdf = shown
    assert legend_texts(histogram) == ["p50 = 50.0 ms", "p95 = 95.0 ms", "p99 = 99.0 ms"]
    texts = legend_texts(cdf)
    assert "share 0.5: a curve crosses it at its p50" in texts
    assert "share 0.99: a curve crosses it at its p99" in texts
    guides = [line for line in cdf.axes[0].lines if str(line.get_label()).startswith("share")]
    assert sorted(float(np.asarray(line.get_ydata())[0]) for line in guides) == [0.5, 0.99]
