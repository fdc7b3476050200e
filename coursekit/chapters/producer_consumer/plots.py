"""Chapter 1's pictures, drawn from a run's events (see :mod:`coursekit.plots` for the shared ones)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt

from coursekit.chapters.producer_consumer.analysis import queue_depth
from coursekit.events import Kind
from coursekit.plots import Runs, finish_figure, run_ending


def show_queue_depth(
    runs: Runs, *, title: str = "Queue depth over time", marks: Mapping[str, float] | None = None
) -> None:
    """One step plot per run of items waiting in the queue; dashed line at maxsize.

    ``marks`` labels instants to draw as dotted vertical lines, e.g. ``{"stop": 6.25}``."""
    figure, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 3.0), sharey=True, squeeze=False)
    for ax, (label, run) in zip(axes[0], runs.items(), strict=True):
        times, depths = queue_depth(run.events)
        ax.step(times, depths, where="post", color="tab:blue")
        maxsizes = {e["maxsize"] for e in run.of_kind(Kind.QUEUE_PUT)} - {0}
        for maxsize in maxsizes:
            ax.axhline(maxsize, color="tab:red", linestyle="--", linewidth=1, label=f"maxsize {maxsize}")
        for name, when in (marks or {}).items():
            ax.axvline(when, color="tab:purple", linestyle=":", linewidth=1.5, label=f"{name} (t={when:g} s)")
        if maxsizes or marks:
            ax.legend(loc="best", fontsize=8)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("virtual time (s)")
        full_waits = len(run.of_kind(Kind.QUEUE_FULL))
        print(f"{label}: peak depth {max(depths)}, {full_waits} put(s) waited on a full queue, {run_ending(run)}")
    axes[0][0].set_ylabel("items waiting")
    finish_figure(figure, title)
