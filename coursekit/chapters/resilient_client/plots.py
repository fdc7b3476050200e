"""Chapter 10's dashboard: one figure, a column per run, panels sharing the time axis (draws only).

Every series comes from :mod:`coursekit.chapters.resilient_client.analysis`, which reads the run's events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from coursekit.chapters.circuit_breaker.plots import (
    SHORTEST_PERIOD,
    STATE_COLOURS,
    draw_breaker_states,
    half_open_mark_label,
    state_handles,
)
from coursekit.chapters.resilient_client.analysis import (
    breaker_states_of,
    calls_in_flight,
    fallbacks_per_bin,
    half_open_periods_of,
    latency_percentiles,
    overall_latency,
    per_bin,
    requests_in_flight,
    retries_per_bin,
)
from coursekit.events import Kind
from coursekit.virtual_time import VirtualRun

TITLE = "Resilient client dashboard: your run beside the reference"
PANELS = (
    "calls in flight",
    "breaker state",
    "admissions / s",
    "retries / s",
    "latency (s)",
    "server load",
)
OUTAGE_COLOUR, OUTAGE_ALPHA = "tab:red", 0.08
FALLBACK_COLOUR = "black"
STATE_ALPHA = 0.3


def fallback_label(width: float) -> str:
    """The legend's words for the fallback bars (one per bin of ``width`` seconds)."""
    return f"calls answered by the fallback, per {width:g} s (breaker panel, right axis)"


def show_dashboard(
    runs: Mapping[str, VirtualRun[Any]],
    *,
    outages: tuple[tuple[float, float], ...] = (),
    width: float = 1.0,
    title: str = TITLE,
) -> None:
    """A column per run; rows: calls in flight, breaker state (each half-open period marked) with the
    calls the fallback answered per ``width`` seconds as bars (right axis), limiter admissions per
    second, retries per second, latency p50 and p99 per second of the calls that ended then, and the
    requests the service was working on. Outages shaded in every panel; every mark in the legend. Prints
    a summary line per run."""
    height = 1.45 * len(PANELS) + 0.8
    figure, axes = plt.subplots(len(PANELS), len(runs), figsize=(5.0 * len(runs), height), sharex=True, squeeze=False)
    span = max((run.elapsed for run in runs.values()), default=1.0)
    most_fallbacks = 0
    fallback_axes = []
    for column, (label, run) in enumerate(runs.items()):
        end, events = run.elapsed, run.events
        panels = axes[:, column]
        for ax in panels:
            for start, stop in outages:
                ax.axvspan(start, stop, color=OUTAGE_COLOUR, alpha=OUTAGE_ALPHA, linewidth=0)
        times, counts = calls_in_flight(events)
        panels[0].step(times, counts, where="post", color="tab:blue")
        draw_breaker_states(
            panels[1],
            breaker_states_of(events, end),
            half_open_periods_of(events, end),
            span=span,
            ymin=0.0,
            ymax=0.86,
            alpha=STATE_ALPHA,
        )
        panels[1].set_yticks([])
        starts, fallbacks = fallbacks_per_bin(events, end, width)
        right = panels[1].twinx()
        right.bar(starts, fallbacks, width=width * 0.6, align="edge", color=FALLBACK_COLOUR, alpha=0.75)
        right.tick_params(labelsize=7)
        fallback_axes.append(right)
        most_fallbacks = max(most_fallbacks, *fallbacks)
        starts, admitted = per_bin(events, Kind.LIMITER_ADMITTED, end, width)
        panels[2].bar(starts, admitted, width=width, align="edge", color="tab:purple")
        starts, retried = retries_per_bin(events, end, width)
        panels[3].bar(starts, retried, width=width, align="edge", color="tab:orange")
        percentiles = latency_percentiles(events, end, width)
        for (percentile, (starts, values)), style in zip(percentiles.items(), ("-", ":"), strict=True):
            points = [(s + width / 2, v) for s, v in zip(starts, values, strict=True) if v is not None]
            panels[4].plot(
                [p[0] for p in points],
                [p[1] for p in points],
                style,
                color="tab:green",
                label=f"p{percentile:g} of the calls ending in each {width:g} s",
            )
        times, counts = requests_in_flight(events)
        panels[5].step(times, counts, where="post", color="tab:grey")
        panels[0].set_title(label, fontsize=10)
        panels[-1].set_xlabel("virtual time (s)")
        summary = overall_latency(events)
        opened = sum(1 for e in run.of_kind(Kind.BREAKER_STATE) if e["new"] == "open")
        rejected = len(run.of_kind(Kind.BREAKER_REJECTED))
        print(
            f"{label}: {summary['calls']} calls, p50 {summary['p50']:.3f} s, p99 {summary['p99']:.3f} s; "
            f"{len(run.of_kind(Kind.SERVER_REQUEST))} requests ({sum(retried)} retries), "
            f"{rejected} rejected by the breaker, {sum(fallbacks)} answered by the fallback, "
            f"opened {opened} time(s); value {run.value}"
        )
    for right in fallback_axes:  # one scale for every column
        right.set_ylim(0, max(1, most_fallbacks) * 1.15)
    fallback_axes[-1].set_ylabel("fallbacks / s", fontsize=8)
    for ax, name in zip(axes[:, 0], PANELS, strict=True):
        ax.set_ylabel(name, fontsize=8)
    handles, labels = state_handles(STATE_ALPHA)
    latency_handles, latency_labels = axes[4][0].get_legend_handles_labels()
    marks = {
        half_open_mark_label(SHORTEST_PERIOD * span): Line2D(
            [], [], marker="v", linestyle="", color=STATE_COLOURS["half_open"], markeredgecolor="black"
        ),
        fallback_label(width): Rectangle((0, 0), 1, 1, color=FALLBACK_COLOUR, alpha=0.75),
        **dict(zip(latency_labels, latency_handles, strict=True)),
        "service down (outage)": Rectangle((0, 0), 1, 1, color=OUTAGE_COLOUR, alpha=OUTAGE_ALPHA * 2),
    }
    figure.legend(handles + list(marks.values()), labels + list(marks), loc="lower center", ncol=3, fontsize=8)
    figure.suptitle(title)
    figure.tight_layout(rect=(0, 0.75 / height, 1, 1))
    plt.show()
    plt.close(figure)
