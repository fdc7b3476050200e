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
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from coursekit.analysis import (
    batch_calls,
    breaker_bands,
    breaker_calls,
    breaker_periods,
    breaker_transitions,
    busy_intervals,
    in_flight,
    item_waits,
    peak_in_flight,
    queue_depth,
)
from coursekit.events import Kind
from coursekit.virtual_time import VirtualRun

Runs = Mapping[str, VirtualRun[Any]]
OUTCOME_COLOURS = {"done": "tab:green", "failed": "tab:red", "cancelled": "tab:grey", "cleanup": "tab:orange"}


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
        print(f"{label}: peak depth {max(depths)}, {full_waits} put(s) waited on a full queue, {_ending(run)}")
    axes[0][0].set_ylabel("items waiting")
    _finish(figure, title)


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
        print(f"{label}: {len(names)} worker(s), busy {share} of the time, {_ending(run)}")
    _finish(figure, title)


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
        print(f"{label}: peak {peak_in_flight(run.events)} in flight, {_ending(run)}")
    axes[0][0].set_ylabel("in flight")
    _finish(figure, title)


def _ending(run: VirtualRun[Any]) -> str:
    """How the run ended, for a summary line: the time, or what went wrong."""
    if run.outcome == "returned":
        return f"finished at t={run.elapsed:g} s"
    return f"did not finish normally: {run.diagnosis.splitlines()[0]}"


def _finish(figure: Figure, title: str, *, bottom: float = 0.0) -> None:
    """Title, lay out (leaving ``bottom``, a share of the height, for a figure legend), show, close."""
    figure.suptitle(title)
    figure.tight_layout(rect=(0, bottom, 1, 1))
    plt.show()
    plt.close(figure)


def show_batches(
    runs: Runs,
    *,
    batch_size: int | None = None,
    max_wait: float | None = None,
    title: str = "Batches, and how long each item waited for its batch",
) -> None:
    """Per run: top, a bar per handler call (height = batch size; green full, orange partial);
    bottom, each item's wait from submit until its batch went to the handler, at its submit time."""
    figure, axes = plt.subplots(2, len(runs), figsize=(4.2 * len(runs), 4.6), sharex="col", squeeze=False)
    for column, (label, run) in enumerate(runs.items()):
        top, bottom = axes[0][column], axes[1][column]
        calls = batch_calls(run.events)
        colours = ["tab:green" if batch_size is not None and size >= batch_size else "tab:orange" for _, size in calls]
        top.bar([time for time, _ in calls], [size for _, size in calls], width=0.06, color=colours)
        if batch_size is not None:
            top.axhline(batch_size, color="tab:red", linestyle="--", linewidth=1, label=f"batch_size {batch_size}")
            top.legend(loc="best", fontsize=8)
        top.set_title(label, fontsize=10)
        waits = {
            item: (sent, flushed - sent)
            for item, (sent, flushed, _) in item_waits(run.events).items()
            if flushed is not None
        }
        never = sum(1 for _, flushed, _ in item_waits(run.events).values() if flushed is None)
        bottom.scatter(
            [sent for sent, _ in waits.values()], [wait for _, wait in waits.values()], s=14, color="tab:blue"
        )
        if max_wait is not None:
            bottom.axhline(max_wait, color="tab:red", linestyle="--", linewidth=1, label=f"max_wait {max_wait:g} s")
            bottom.legend(loc="best", fontsize=8)
        bottom.set_xlabel("virtual time (s)")
        values = [wait for _, wait in waits.values()]
        longest = f"{max(values):.3g}" if values else "n/a"
        mean = f"{sum(values) / len(values):.3g}" if values else "n/a"
        sizes = [size for _, size in calls]
        print(
            f"{label}: {len(calls)} batch(es) of sizes {sizes if len(sizes) <= 12 else sizes[:12] + ['...']}, "
            f"wait for a batch: mean {mean} s, max {longest} s"
            + (f", {never} item(s) never sent" if never else "")
            + f", {_ending(run)}"
        )
    axes[0][0].set_ylabel("batch size")
    axes[1][0].set_ylabel("wait for its batch (s)")
    _finish(figure, title)


def show_batch_tradeoff(
    runs: Mapping[int, VirtualRun[Any]], *, title: str = "Latency and throughput as batch_size grows"
) -> None:
    """One run per batch size (the keys): mean and worst latency (submit -> result) and
    throughput (items per second, until the last result), side by side."""
    sizes = list(runs)
    mean_latency, worst_latency, throughput = [], [], []
    for size, run in runs.items():
        latencies = [done - sent for sent, _, done in item_waits(run.events).values() if done is not None]
        last = max((done for _, _, done in item_waits(run.events).values() if done is not None), default=0.0)
        mean_latency.append(sum(latencies) / len(latencies) if latencies else float("nan"))
        worst_latency.append(max(latencies) if latencies else float("nan"))
        throughput.append(len(latencies) / last if last else float("nan"))
        calls = len(batch_calls(run.events))
        print(
            f"batch_size {size:>3}: {calls:>4} handler calls, latency mean {mean_latency[-1]:.3f} s, "
            f"max {worst_latency[-1]:.3f} s, throughput {throughput[-1]:.1f} items/s"
        )
    figure, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.2))
    left.plot(sizes, mean_latency, marker="o", label="mean")
    left.plot(sizes, worst_latency, marker="o", linestyle="--", label="worst")
    left.set_xscale("log")
    left.set_xlabel("batch_size")
    left.set_ylabel("latency, submit -> result (s)")
    left.set_yscale("log")
    left.legend(fontsize=8)
    right.plot(sizes, throughput, marker="o", color="tab:green")
    right.set_xscale("log")
    right.set_xlabel("batch_size")
    right.set_ylabel("throughput (items/s)")
    _finish(figure, title)


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
            f"half open {len(half_open)} time(s), {_ending(run)}"
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
    _finish(figure, title, bottom=0.75 / (1.9 * len(runs) + 0.9))


def show_attempts(
    runs: Runs,
    *,
    outage: tuple[float, float] | None = None,
    title: str = "Each client's attempts over time",
) -> None:
    """Per run, a row per client (one path each): a dot per request when it was answered, red for
    429/5xx (or no answer), green otherwise; ``outage`` shades the service's outage."""
    from coursekit.analysis import attempts_by_client

    figure, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 3.0), sharey=True, squeeze=False)
    for ax, (label, run) in zip(axes[0], runs.items(), strict=True):
        attempts = attempts_by_client(run.events)
        names = sorted(attempts)
        for row, name in enumerate(names):
            times = [time for time, _ in attempts[name]]
            colours = ["tab:green" if s is not None and s < 429 else "tab:red" for _, s in attempts[name]]
            ax.plot(times, [row] * len(times), color="lightgrey", linewidth=1, zorder=1)
            ax.scatter(times, [row] * len(times), c=colours, s=18, zorder=2)
        if outage is not None:
            ax.axvspan(*outage, color="tab:red", alpha=0.1, label=f"outage {outage[0]:g}-{outage[1]:g} s")
            ax.legend(loc="best", fontsize=8)
        ax.set_yticks(range(len(names)), names)
        ax.invert_yaxis()
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("virtual time (s)")
        total = sum(len(calls) for calls in attempts.values())
        print(f"{label}: {len(names)} client(s), {total} request(s), {_ending(run)}")
    _finish(figure, title)


def show_server_load(
    runs: Runs,
    *,
    width: float = 0.5,
    outage: tuple[float, float] | None = None,
    after: float = 0.0,
    title: str = "Requests the service received",
) -> None:
    """Per run, a bar per ``width`` seconds: how many requests arrived then; ``outage`` shaded. The
    summary line gives the busiest bin starting at ``after`` or later (to leave out a first burst)."""
    from coursekit.analysis import server_load

    figure, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 3.0), sharey=True, squeeze=False)
    for ax, (label, run) in zip(axes[0], runs.items(), strict=True):
        starts, counts = server_load(run.events, width)
        ax.bar(starts, counts, width=width, align="edge", color="tab:blue")
        if outage is not None:
            ax.axvspan(*outage, color="tab:red", alpha=0.1, label=f"outage {outage[0]:g}-{outage[1]:g} s")
            ax.legend(loc="best", fontsize=8)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("virtual time (s)")
        peak = max((count for start, count in zip(starts, counts, strict=True) if start >= after), default=0)
        since = f" from t={after:g} s on" if after else ""
        print(f"{label}: {sum(counts)} requests, at most {peak} in one {width:g} s bin{since}, {_ending(run)}")
    axes[0][0].set_ylabel(f"requests per {width:g} s")
    _finish(figure, title)
