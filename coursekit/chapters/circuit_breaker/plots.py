"""Chapter 7's pictures, drawn from a run's events (see :mod:`coursekit.plots` for the shared ones)."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from coursekit.chapters.circuit_breaker.analysis import (
    breaker_bands,
    breaker_calls,
    breaker_periods,
    breaker_transitions,
)
from coursekit.plots import Runs, finish_figure, run_ending

STATE_COLOURS = {"closed": "tab:green", "open": "tab:red", "half_open": "tab:orange"}


STATE_LABELS = {"closed": "closed", "open": "open", "half_open": "half open"}


SHORTEST_PERIOD = 0.01  # a half-open period is drawn at least this share of the time axis wide


def half_open_mark_label(shortest: float) -> str:
    """The legend's words for the marker above each half-open period (drawn at least ``shortest`` s wide)."""
    return f"each half-open period (trial calls), drawn at least {shortest:.1f} s wide"


def draw_breaker_states(
    ax: Any,
    bands: list[tuple[float, float, str]],
    half_open: list[tuple[float, float]],
    *,
    span: float,
    ymin: float,
    ymax: float,
    alpha: float,
) -> None:
    """Draw a breaker's (start, end, state) ``bands`` between ``ymin`` and ``ymax`` (axes fractions), and
    on top every ``half_open`` period (start, end), even one of no length: at least ``SHORTEST_PERIOD *
    span`` wide, outlined, with a marker above it labelled :func:`half_open_mark_label`."""
    shortest = SHORTEST_PERIOD * span
    for start, end, state in bands:
        if state != "half_open":
            ax.axvspan(start, end, ymin=ymin, ymax=ymax, color=STATE_COLOURS.get(state, "tab:blue"), alpha=alpha)
    drawn = [(start, max(end, start + shortest)) for start, end in half_open]
    for start, end in drawn:
        ax.axvspan(
            start,
            end,
            ymin=ymin,
            ymax=ymax,
            facecolor=STATE_COLOURS["half_open"],
            edgecolor="black",
            linewidth=0.6,
            alpha=HALF_OPEN_ALPHA,
            zorder=1.5,
        )
    ax.scatter(
        [(start + end) / 2 for start, end in drawn],
        [ymax + 0.06] * len(drawn),
        transform=ax.get_xaxis_transform(),
        marker="v",
        s=36,
        color=STATE_COLOURS["half_open"],
        edgecolors="black",
        linewidths=0.6,
        zorder=3,
        clip_on=False,
        label=half_open_mark_label(shortest),
    )


HALF_OPEN_ALPHA = 0.8


def state_handles(alpha: float) -> tuple[list[Any], list[str]]:
    """Legend handles and labels of the breaker's states, as :func:`draw_breaker_states` draws them."""
    handles = [
        Rectangle(
            (0, 0),
            1,
            1,
            facecolor=colour,
            edgecolor="black" if state == "half_open" else "none",
            linewidth=0.6,
            alpha=HALF_OPEN_ALPHA if state == "half_open" else alpha,
        )
        for state, colour in STATE_COLOURS.items()
    ]
    return handles, [STATE_LABELS[state] for state in STATE_COLOURS]


def show_breaker_states(
    runs: Runs,
    *,
    outages: tuple[tuple[float, float], ...] = (),
    title: str = "Breaker state over time, against the service's outages",
) -> None:
    """Per run: the breaker's state as coloured bands (green closed, red open, orange half open; every
    half-open period marked with a triangle and drawn wide enough to see, even one of no length), the
    service's outages as a hatched strip below, and every call marked: a dot for one the service
    answered, a cross for a failure, a tick for one the breaker rejected without calling. Every mark is
    in the legend."""
    figure, axes = plt.subplots(len(runs), 1, figsize=(9.0, 1.9 * len(runs) + 0.9), sharex=True, squeeze=False)
    span = max((run.elapsed for run in runs.values()), default=1.0)
    for ax, (label, run) in zip(axes[:, 0], runs.items(), strict=True):
        half_open = breaker_periods(run.events, "half_open", end=run.elapsed)
        draw_breaker_states(
            ax, breaker_bands(run.events, end=run.elapsed), half_open, span=span, ymin=0.35, ymax=0.88, alpha=0.35
        )
        for start, end in outages:
            ax.axvspan(start, end, ymin=0.0, ymax=0.25, facecolor="none", edgecolor="tab:grey", hatch="///")
        marks = breaker_calls(run.events)
        ax.scatter(marks["ok"], [0.76] * len(marks["ok"]), s=10, color="tab:green", zorder=2)
        ax.scatter(marks["failed"], [0.62] * len(marks["failed"]), s=18, marker="x", color="tab:red", zorder=2)
        ax.scatter(marks["rejected"], [0.48] * len(marks["rejected"]), s=18, marker="|", color="black", zorder=2)
        ax.set_ylim(0, 1)
        ax.set_yticks([0.125, 0.62], ["outage", "calls"])
        ax.set_title(label, fontsize=10)
        opened = sum(1 for _, _, new in breaker_transitions(run.events) if new == "open")
        print(
            f"{label}: {len(marks['ok']) + len(marks['failed'])} call(s) reached the service "
            f"({len(marks['failed'])} failed), {len(marks['rejected'])} rejected, opened {opened} time(s), "
            f"half open {len(half_open)} time(s), {run_ending(run)}"
        )
    handles, labels = state_handles(0.35)
    marks_legend = {
        half_open_mark_label(SHORTEST_PERIOD * span): Line2D(
            [], [], marker="v", linestyle="", color=STATE_COLOURS["half_open"], markeredgecolor="black"
        ),
        "a call the service answered": Line2D([], [], marker="o", markersize=4, linestyle="", color="tab:green"),
        "a call that failed (5xx)": Line2D([], [], marker="x", linestyle="", color="tab:red"),
        "a call the breaker rejected (not made)": Line2D([], [], marker="|", linestyle="", color="black"),
        "service down (outage)": Rectangle((0, 0), 1, 1, facecolor="none", edgecolor="tab:grey", hatch="///"),
    }
    figure.legend(
        handles + list(marks_legend.values()), labels + list(marks_legend), loc="lower center", fontsize=8, ncol=3
    )
    axes[-1][0].set_xlabel("virtual time (s)")
    finish_figure(figure, title, bottom=0.75 / (1.9 * len(runs) + 0.9))
