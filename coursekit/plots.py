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

from coursekit.events import Event
from coursekit.virtual_time import VirtualRun
from coursekit.workload import in_flight, peak_in_flight

Runs = Mapping[str, VirtualRun[Any]]
OUTCOME_COLOURS = {"done": "tab:green", "failed": "tab:red", "cancelled": "tab:grey"}


def queue_depth(events: list[Event]) -> tuple[list[float], list[int]]:
    """(times, depths): items waiting in the queue at each instant it changed.

    Several puts and gets at the same virtual instant count as one change (the
    depth after the last of them), so an item taken as soon as it is put leaves
    no spike."""
    depth_at: dict[float, int] = {0.0: 0}
    for event in events:
        if event.kind in ("queue.put", "queue.get"):
            depth_at[event.time or 0.0] = event["depth"]
    return list(depth_at), list(depth_at.values())


def busy_intervals(events: list[Event]) -> dict[str, list[tuple[float, float, str]]]:
    """Per task: (start, end, outcome) of each work.start -> work.end, in start order."""
    open_work: dict[tuple[str | None, Any], float] = {}
    intervals: dict[str, list[tuple[float, float, str]]] = {}
    for event in events:
        key = (event.task, event.fields.get("item"))
        if event.kind == "work.start":
            open_work[key] = event.time or 0.0
        elif event.kind == "work.end" and key in open_work:
            start = open_work.pop(key)
            intervals.setdefault(event.task or "?", []).append((start, event.time or 0.0, event["outcome"]))
    return intervals


def show_queue_depth(runs: Runs, *, title: str = "Queue depth over time",
                     marks: Mapping[str, float] | None = None) -> None:
    """One step plot per run of items waiting in the queue; dashed line at maxsize.

    ``marks`` labels instants to draw as dotted vertical lines, e.g. ``{"stop": 6.25}``."""
    figure, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 3.0), sharey=True, squeeze=False)
    for ax, (label, run) in zip(axes[0], runs.items()):
        times, depths = queue_depth(run.events)
        ax.step(times, depths, where="post", color="tab:blue")
        maxsizes = {e["maxsize"] for e in run.of_kind("queue.put")} - {0}
        for maxsize in maxsizes:
            ax.axhline(maxsize, color="tab:red", linestyle="--", linewidth=1, label=f"maxsize {maxsize}")
        for name, when in (marks or {}).items():
            ax.axvline(when, color="tab:purple", linestyle=":", linewidth=1.5, label=f"{name} (t={when:g} s)")
        if maxsizes or marks:
            ax.legend(loc="best", fontsize=8)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("virtual time (s)")
        full_waits = len(run.of_kind("queue.full"))
        print(f"{label}: peak depth {max(depths)}, {full_waits} put(s) waited on a full queue, "
              f"{_ending(run)}")
    axes[0][0].set_ylabel("items waiting")
    _finish(figure, title)


def show_busy_timeline(runs: Runs, *, title: str = "Who was busy when") -> None:
    """One Gantt chart per run: a row per consumer, a bar per item (green done, red failed)."""
    figure, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 3.0), squeeze=False)
    for ax, (label, run) in zip(axes[0], runs.items()):
        intervals = busy_intervals(run.events)
        names = sorted(intervals)
        for row, name in enumerate(names):
            bars = intervals[name]
            ax.broken_barh([(start, end - start) for start, end, _ in bars], (row - 0.4, 0.8),
                           facecolors=[OUTCOME_COLOURS.get(outcome, "tab:blue") for *_, outcome in bars],
                           edgecolor="white")
        ax.set_yticks(range(len(names)), names)
        ax.invert_yaxis()  # first worker on top
        ax.set_xlim(0, max(run.elapsed, 1e-9))
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("virtual time (s)")
        busy = sum(end - start for bars in intervals.values() for start, end, _ in bars)
        capacity = len(names) * run.elapsed
        share = f"{busy / capacity:.0%}" if capacity else "n/a"
        print(f"{label}: {len(names)} worker(s), busy {share} of the time, {_ending(run)}")
    _finish(figure, title)


def show_in_flight(runs: Runs, *, limit: int | None = None, title: str = "Items in flight over time") -> None:
    """One step plot per run of how many handle() calls were running; dashed line at ``limit``."""
    figure, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 3.0), sharey=True, squeeze=False)
    for ax, (label, run) in zip(axes[0], runs.items()):
        times, counts = in_flight(run.events)
        ax.step(times, counts, where="post", color="tab:green")
        if limit is not None:
            ax.axhline(limit, color="tab:red", linestyle="--", linewidth=1, label=f"limit {limit}")
            ax.legend(loc="best", fontsize=8)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("virtual time (s)")
        print(f"{label}: peak {peak_in_flight(run.events)} in flight, {_ending(run)}")
    axes[0][0].set_ylabel("in flight")
    _finish(figure, title)


def _ending(run: VirtualRun[Any]) -> str:
    """How the run ended, for a summary line: the time, or what went wrong."""
    if run.outcome == "returned":
        return f"finished at t={run.elapsed:g} s"
    return f"did not finish normally: {run.diagnosis.splitlines()[0]}"


def _finish(figure: plt.Figure, title: str) -> None:
    figure.suptitle(title)
    figure.tight_layout()
    plt.show()
    plt.close(figure)
