"""Pictures of rate-limited runs (chapter 8), drawn from their events; draws only.

Each ``show_*`` function takes labelled runs, draws them on one figure, shows it, and prints
one deterministic summary line per run (the images are not compared by nbval, the lines are).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.colors import to_rgba

from coursekit.chapters.rate_limiting.analysis import (
    admissions,
    bucket_tokens,
    busiest_window,
    most_in_any_window,
    per_window,
    refusals,
    requests,
    tracked_clients,
)
from coursekit.virtual_time import VirtualRun

Runs = Mapping[str, VirtualRun[Any]]


def run_ending(run: VirtualRun[Any]) -> str:
    if run.outcome == "returned":
        return f"ended at t={run.elapsed:g}"
    return f"{run.outcome} ({run.diagnosis.splitlines()[0]})"


def finish_figure(figure: Any, title: str) -> None:
    figure.suptitle(title)
    figure.tight_layout()
    plt.show()
    plt.close(figure)


def show_bucket(
    runs: Runs, *, rate: float, capacity: int, title: str = "Tokens in the bucket, and when requests passed"
) -> None:
    """Per run: the tokens left in a bucket of ``capacity`` refilled at ``rate`` (computed from the run's
    admissions: below 0, more passed than the bucket allows), each request's arrival (grey tick), and
    its admission: a green dot if it passed at once, an orange triangle if it waited."""
    figure, axes = plt.subplots(len(runs), 1, figsize=(9.0, 2.4 * len(runs)), sharex=True, squeeze=False)
    for ax, (label, run) in zip(axes[:, 0], runs.items(), strict=True):
        times, tokens = bucket_tokens(run.events, rate, capacity)
        ax.plot(times, tokens, color="tab:blue", linewidth=1.2, label="tokens left")
        ax.axhline(capacity, color="tab:grey", linestyle="--", linewidth=1, label=f"capacity {capacity}")
        ax.axhline(0, color="black", linewidth=0.6, label="empty (below: more passed than it allows)")
        passed = admissions(run.events)
        at_once = [when for when, _, waited in passed if waited <= 1e-9]
        delayed = [when for when, _, waited in passed if waited > 1e-9]
        asked = requests(run.events)
        ax.scatter(asked, [capacity + 1.2] * len(asked), marker="|", color="tab:grey", s=30, label="asked")
        ax.scatter(at_once, [capacity + 0.6] * len(at_once), s=14, color="tab:green", label="passed at once")
        ax.scatter(delayed, [capacity + 0.6] * len(delayed), s=16, marker="v", color="tab:orange", label="waited")
        ax.set_ylim(min(-1.0, min(tokens, default=0.0) - 0.5), capacity + 1.8)
        ax.set_ylabel("tokens")
        ax.set_title(label, fontsize=10)
        waits = [waited for _, _, waited in passed]
        print(
            f"{label}: {len(asked)} requests, {len(at_once)} passed at once, {len(delayed)} waited "
            f"(longest {max(waits, default=0.0):.3g} s), at most {most_in_any_window([w for w, _, _ in passed], 1.0)} "
            f"in any 1 s, lowest token level {min(tokens, default=float(capacity)):.3g}, {run_ending(run)}"
        )
    axes[0][0].legend(loc="lower center", bbox_to_anchor=(0.5, 1.2), ncol=3, fontsize=8)
    axes[-1][0].set_xlabel("virtual time (s)")
    finish_figure(figure, title)


def show_admissions(runs: Runs, *, width: float = 1.0, limit: float | None = None, title: str | None = None) -> None:
    """One row per run (e.g. per algorithm): arrivals per bin of ``width`` seconds as grey bars, admissions
    as blue bars in front; ``limit`` (per ``width`` seconds) as a dashed line; and the busiest window of
    ``width`` seconds at any start (sliding, not just the drawn bins) outlined, with its count on the
    right. The summary gives admitted, refused and that count."""
    figure, axes = plt.subplots(len(runs), 1, figsize=(9.0, 1.5 * len(runs) + 0.9), sharex=True, squeeze=False)
    end = max((run.elapsed for run in runs.values()), default=width)
    for ax, (label, run) in zip(axes[:, 0], runs.items(), strict=True):
        asked = requests(run.events)
        passed = [when for when, _, _ in admissions(run.events)]
        starts, arrived = per_window(asked, width, end)
        _, admitted = per_window(passed, width, end)
        ax.bar(starts, arrived, width=width, align="edge", color="lightgrey", label=f"asked, per {width:g} s bin")
        ax.bar(
            starts, admitted, width=width * 0.6, align="edge", color="tab:blue", label=f"admitted, per {width:g} s bin"
        )
        if limit is not None:
            ax.axhline(
                limit, color="tab:red", linestyle="--", linewidth=1, label=f"limit: {limit:g} per {width:g} s window"
            )
        busiest = busiest_window(passed, width)
        most = busiest.count
        if most:
            ax.axvspan(
                busiest.first,
                busiest.first + width,
                facecolor=to_rgba("tab:purple", 0.12),
                edgecolor="tab:purple",
                linestyle=":",
                linewidth=1.2,
                zorder=0,
                label=f"the busiest {width:g} s window, at any start",
            )
        ax.text(
            1.01,
            0.5,
            f"at most {most}\nin any {width:g} s",
            transform=ax.transAxes,
            fontsize=8,
            va="center",
            color="tab:purple",
        )
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
        print(
            f"{label:>22}: {len(passed)} admitted, {len(refusals(run.events))} refused, "
            f"at most {most_in_any_window(passed, width)} in any {width:g} s"
        )
    axes[0][0].legend(loc="lower center", bbox_to_anchor=(0.5, 1.08), ncol=2, fontsize=8)
    axes[-1][0].set_xlabel(f"virtual time (s); bars: bins of {width:g} s")
    finish_figure(figure, title or f"Admissions per {width:g} s bin, and the most in any {width:g} s window")


def show_tracked(runs: Runs, *, title: str = "Clients a per-client limiter keeps state for") -> None:
    """Per run: the clients tracked over time, next to the distinct clients seen so far."""
    figure, axes = plt.subplots(1, len(runs), figsize=(4.5 * len(runs), 3.0), sharey=True, squeeze=False)
    for ax, (label, run) in zip(axes[0], runs.items(), strict=True):
        times, tracked, seen = tracked_clients(run.events)
        ax.plot(times, seen, color="tab:grey", linestyle="--", label="distinct clients seen")
        ax.plot(times, tracked, color="tab:blue", label="clients tracked")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("virtual time (s)")
        ax.legend(loc="upper left", fontsize=8)
        print(
            f"{label}: {max(seen, default=0)} distinct clients seen, at most {max(tracked, default=0)} tracked "
            f"at once, {tracked[-1] if tracked else 0} at the end, {run_ending(run)}"
        )
    axes[0][0].set_ylabel("clients")
    finish_figure(figure, title)
