"""Chapter 10's dashboard: one figure, a column per run, panels sharing the time axis (draws only).

Every series comes from :mod:`coursekit.analysis_dashboard`, which reads the run's events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt

from coursekit.analysis_dashboard import (
    breaker_states_of,
    calls_in_flight,
    latency_percentiles,
    overall_latency,
    per_bin,
    requests_in_flight,
    retries_per_bin,
)
from coursekit.plots import STATE_COLOURS
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


def show_dashboard(
    runs: Mapping[str, VirtualRun[Any]],
    *,
    outages: tuple[tuple[float, float], ...] = (),
    width: float = 1.0,
    title: str = TITLE,
) -> None:
    """A column per run; rows: calls in flight, breaker state, limiter admissions per second, retries
    per second, latency p50 and p99 per second of the calls that ended then, and the requests the service
    was working on. Outages shaded in every panel. Prints a summary line per run."""
    figure, axes = plt.subplots(
        len(PANELS), len(runs), figsize=(5.0 * len(runs), 1.45 * len(PANELS)), sharex=True, squeeze=False
    )
    for column, (label, run) in enumerate(runs.items()):
        end, events = run.elapsed, run.events
        panels = axes[:, column]
        for ax in panels:
            for start, stop in outages:
                ax.axvspan(start, stop, color="tab:red", alpha=0.08)
        times, counts = calls_in_flight(events)
        panels[0].step(times, counts, where="post", color="tab:blue")
        for start, stop, state in breaker_states_of(events, end):
            panels[1].axvspan(start, stop, color=STATE_COLOURS.get(state, "tab:blue"), alpha=0.45)
        rejected = [event.time or 0.0 for event in run.of_kind("breaker.rejected")]
        panels[1].scatter(rejected, [0.5] * len(rejected), marker="|", color="black", s=12)
        panels[1].set_yticks([])
        starts, admitted = per_bin(events, "limiter.admitted", end, width)
        panels[2].bar(starts, admitted, width=width, align="edge", color="tab:purple")
        starts, retried = retries_per_bin(events, end, width)
        panels[3].bar(starts, retried, width=width, align="edge", color="tab:orange")
        for percentile, style in zip(latency_percentiles(events, end, width), ("-", ":"), strict=True):
            starts, values = latency_percentiles(events, end, width)[percentile]
            points = [(s + width / 2, v) for s, v in zip(starts, values, strict=True) if v is not None]
            panels[4].plot(
                [p[0] for p in points], [p[1] for p in points], style, color="tab:green", label=f"p{percentile:g}"
            )
        panels[4].legend(loc="upper left", fontsize=7)
        times, counts = requests_in_flight(events)
        panels[5].step(times, counts, where="post", color="tab:grey")
        panels[0].set_title(label, fontsize=10)
        panels[-1].set_xlabel("virtual time (s)")
        summary = overall_latency(events)
        opened = sum(1 for e in run.of_kind("breaker.state") if e["new"] == "open")
        print(
            f"{label}: {summary['calls']} calls, p50 {summary['p50']:.3f} s, p99 {summary['p99']:.3f} s; "
            f"{len(run.of_kind('server.request'))} requests ({sum(retried)} retries), "
            f"{len(rejected)} rejected by the breaker, opened {opened} time(s); value {run.value}"
        )
    for ax, name in zip(axes[:, 0], PANELS, strict=True):
        ax.set_ylabel(name, fontsize=8)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colour, alpha=0.45) for colour in STATE_COLOURS.values()]
    figure.legend(handles, list(STATE_COLOURS), loc="lower center", ncol=3, fontsize=8)
    figure.suptitle(title)
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    plt.show()
