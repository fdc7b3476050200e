"""Chapter 3's pictures, drawn from a run's events (see :mod:`coursekit.plots` for the shared ones)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt

from coursekit.chapters.batching.analysis import batch_calls, item_waits
from coursekit.plots import Runs, finish_figure, run_ending
from coursekit.virtual_time import VirtualRun


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
            + f", {run_ending(run)}"
        )
    axes[0][0].set_ylabel("batch size")
    axes[1][0].set_ylabel("wait for its batch (s)")
    finish_figure(figure, title)


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
    finish_figure(figure, title)
