"""Chapter 9's pictures: latency histograms with percentile lines, CDFs, coordinated omission.

Draw only: the latencies come from the caller, or from a run's events through
:mod:`coursekit.chapters.latency_statistics.analysis`. Percentile lines are nearest-rank (numpy's
``method="inverted_cdf"``, Hyndman & Fan type 1). Each function prints one
deterministic summary line per series, so notebooks compare strictly under nbval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from coursekit.chapters.latency_statistics.analysis import latencies_both_ways
from coursekit.virtual_time import VirtualRun

PERCENTILE_COLOURS = {50: "tab:green", 95: "tab:orange", 99: "tab:red"}


def nearest_rank_ms(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile of ``values`` (seconds), in milliseconds (numpy's inverted_cdf)."""
    return float(np.percentile(np.asarray(values, dtype=float), p, method="inverted_cdf")) * 1000


def _summary(label: str, values: Sequence[float], percentiles: Sequence[float]) -> str:
    parts = [f"p{p:g} {nearest_rank_ms(values, p):.1f} ms" for p in percentiles]
    return f"{label}: {len(values)} latencies, " + ", ".join(parts) + f", max {max(values) * 1000:.1f} ms"


def show_latency_histogram(
    samples: Mapping[str, Sequence[float]],
    *,
    percentiles: Sequence[float] = (50, 95, 99),
    title: str = "Latency histogram",
) -> None:
    """One panel per series: a histogram of its latencies on log-spaced bins, with a vertical line at
    each nearest-rank percentile."""
    figure, axes = plt.subplots(1, len(samples), figsize=(6.0 * len(samples), 3.0), squeeze=False)
    for ax, (label, values) in zip(axes[0], samples.items(), strict=True):
        data = np.asarray(values, dtype=float) * 1000
        bins = np.geomspace(max(data.min(), 1e-3), data.max() * 1.01, 40)
        ax.hist(data, bins=bins, color="tab:blue", alpha=0.7)
        ax.set_xscale("log")
        for p in percentiles:
            ax.axvline(
                nearest_rank_ms(values, p),
                color=PERCENTILE_COLOURS.get(int(p), "tab:purple"),
                linestyle="--",
                label=percentile_label(values, p),
            )
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), title="nearest rank", title_fontsize=8)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("latency (ms, log scale)")
        print(_summary(label, values, percentiles))
    axes[0][0].set_ylabel("requests")
    finish_figure(figure, title)


def percentile_label(values: Sequence[float], p: float) -> str:
    """A percentile line's legend label: which percentile, its value, and the method."""
    return f"p{p:g} = {nearest_rank_ms(values, p):.1f} ms"


CDF_GUIDES = {
    50: ("--", "share 0.5: a curve crosses it at its p50"),
    99: (":", "share 0.99: a curve crosses it at its p99"),
}


def show_cdf(samples: Mapping[str, Sequence[float]], *, title: str = "Latency CDF") -> None:
    """Every series' empirical distribution function on one axis: the share of latencies at or below x;
    guide lines at the shares 0.5 and 0.99, labelled, where each curve reaches its p50 and p99 (a dot
    on the curve)."""
    figure, ax = plt.subplots(figsize=(6.5, 3.4))
    for label, values in samples.items():
        data = np.sort(np.asarray(values, dtype=float)) * 1000
        shares = np.arange(1, len(data) + 1) / len(data)
        (line,) = ax.step(data, shares, where="post", label=label)
        ax.plot(
            [nearest_rank_ms(values, p) for p in CDF_GUIDES],
            [p / 100 for p in CDF_GUIDES],
            "o",
            markersize=4,
            color=line.get_color(),
        )
        print(_summary(label, values, (50, 99)))
    for p, (style, words) in CDF_GUIDES.items():
        ax.axhline(p / 100, color="grey", linestyle=style, linewidth=1, label=words)
        ax.annotate(
            f"p{p}",
            (0.0, p / 100),
            xycoords=("axes fraction", "data"),
            xytext=(3, 2),
            textcoords="offset points",
            fontsize=8,
            color="dimgrey",
        )
    ax.plot([], [], "o", markersize=4, color="grey", label="each curve's p50 and p99 (nearest rank)")
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_ylabel("share of requests at or below")
    ax.legend(fontsize=8, loc="lower right")
    finish_figure(figure, title)


def show_coordinated_omission(
    runs: Mapping[str, VirtualRun[Any]], *, start: float, rate: float, stalls: Sequence[tuple[float, float]] = ()
) -> None:
    """One panel per run: each request's latency against its intended send time, measured from the send
    (crosses: what a closed-loop client records) and from the intended send (dots); stalls hatched."""
    figure, axes = plt.subplots(1, len(runs), figsize=(4.8 * len(runs), 3.2), sharey=True, squeeze=False)
    for ax, (label, run) in zip(axes[0], runs.items(), strict=True):
        intended, from_send, from_intended = latencies_both_ways(run.events, start=start, rate=rate)
        for number, (begin, end) in enumerate(stalls):
            ax.axvspan(
                begin,
                end,
                color="tab:grey",
                alpha=0.2,
                hatch="//",
                label=None if number else "service stalled (requests held)",
            )
        ax.plot(intended, np.asarray(from_intended) * 1000, ".", color="tab:red", label="from intended send")
        ax.plot(intended, np.asarray(from_send) * 1000, "x", color="tab:blue", markersize=4, label="from send")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("intended send time (virtual s)")
        ax.legend(fontsize=8)
        if not from_send:
            print(f"{label}: no request was answered")
            continue
        print(
            f"{label}: {len(from_send)} requests; p99 from the send {nearest_rank_ms(from_send, 99):.1f} ms, "
            f"from the intended send {nearest_rank_ms(from_intended, 99):.1f} ms"
        )
    axes[0][0].set_ylabel("latency (ms)")
    finish_figure(figure, "Coordinated omission: the same run, measured two ways")


def finish_figure(figure: Figure, title: str) -> None:
    figure.suptitle(title)
    figure.tight_layout()
    plt.show()
