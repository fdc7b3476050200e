"""Pictures of a run, drawn from the events it emitted (never from the pattern code).

Each ``show_*`` function takes one or more labelled runs, draws them side by side
on one figure (so a learner's run sits next to the reference run), shows it, and
prints a one-line summary per run. The summary is deterministic text, so
notebooks compare strictly under nbval even though images are not compared.

Time on every x axis is virtual seconds since the run started.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from coursekit.analysis import busy_intervals, in_flight, peak_in_flight
from coursekit.virtual_time import VirtualRun

Runs = Mapping[str, VirtualRun[Any]]
OUTCOME_COLOURS = {"done": "tab:green", "failed": "tab:red", "cancelled": "tab:grey", "cleanup": "tab:orange"}


def show_busy_timeline(
    runs: Runs, *, title: str = "Who was busy when", marks: Mapping[str, float] | None = None
) -> None:
    """One Gantt chart per run: a row per task, a bar per item (green done, red failed, grey
    cancelled, orange cleanup); ``marks`` draws named instants (seconds since the run started)."""
    figure, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 3.0), squeeze=False)
    for ax, (label, run) in zip(axes[0], runs.items(), strict=True):
        intervals = busy_intervals(run.events)
        names = sorted(intervals)
        for row, name in enumerate(names):
            bars = intervals[name]
            ax.broken_barh(
                [(start, end - start) for start, end, _ in bars],
                (row - 0.4, 0.8),
                facecolors=[OUTCOME_COLOURS.get(outcome, "tab:blue") for *_, outcome in bars],
                edgecolor="white",
            )
        ax.set_yticks(range(len(names)), names)
        ax.invert_yaxis()  # first worker on top
        ax.set_xlim(0, max(run.elapsed, *(marks or {}).values(), 1e-9))
        for name, when in (marks or {}).items():
            ax.axvline(when, color="tab:purple", linestyle=":", linewidth=1.5, label=f"{name} (t={when:g} s)")
        if marks:
            ax.legend(loc="best", fontsize=8)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("virtual time (s)")
        busy = sum(end - start for bars in intervals.values() for start, end, _ in bars)
        capacity = len(names) * run.elapsed
        share = f"{busy / capacity:.0%}" if capacity else "n/a"
        print(f"{label}: {len(names)} worker(s), busy {share} of the time, {run_ending(run)}")
    finish_figure(figure, title)


def show_in_flight(runs: Runs, *, limit: int | None = None, title: str = "Items in flight over time") -> None:
    """One step plot per run of how many handle() calls were running; dashed line at ``limit``."""
    figure, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 3.0), sharey=True, squeeze=False)
    for ax, (label, run) in zip(axes[0], runs.items(), strict=True):
        times, counts = in_flight(run.events)
        ax.step(times, counts, where="post", color="tab:green")
        if limit is not None:
            ax.axhline(limit, color="tab:red", linestyle="--", linewidth=1, label=f"limit {limit}")
            ax.legend(loc="best", fontsize=8)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("virtual time (s)")
        print(f"{label}: peak {peak_in_flight(run.events)} in flight, {run_ending(run)}")
    axes[0][0].set_ylabel("in flight")
    finish_figure(figure, title)


def run_ending(run: VirtualRun[Any]) -> str:
    """How the run ended, for a summary line: the time, or what went wrong."""
    if run.outcome == "returned":
        return f"finished at t={run.elapsed:g} s"
    return f"did not finish normally: {run.diagnosis.splitlines()[0]}"


def finish_figure(figure: Figure, title: str, *, bottom: float = 0.0) -> None:
    """Title, lay out (leaving ``bottom``, a share of the height, for a figure legend), show, close."""
    figure.suptitle(title)
    figure.tight_layout(rect=(0, bottom, 1, 1))
    plt.show()
    plt.close(figure)
