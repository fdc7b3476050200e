"""Chapter 6's pictures, drawn from a run's events (see :mod:`coursekit.plots` for the shared ones)."""

from __future__ import annotations

import matplotlib.pyplot as plt

from coursekit.plots import Runs, finish_figure, run_ending


def show_attempts(
    runs: Runs,
    *,
    outage: tuple[float, float] | None = None,
    title: str = "Each client's attempts over time",
) -> None:
    """Per run, a row per client (one path each): a dot per request when it was answered, red for
    429/5xx (or no answer), green otherwise; ``outage`` shades the service's outage."""
    from coursekit.chapters.retries.analysis import attempts_by_client

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
        print(f"{label}: {len(names)} client(s), {total} request(s), {run_ending(run)}")
    finish_figure(figure, title)


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
    from coursekit.chapters.retries.analysis import server_load

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
        print(f"{label}: {sum(counts)} requests, at most {peak} in one {width:g} s bin{since}, {run_ending(run)}")
    axes[0][0].set_ylabel(f"requests per {width:g} s")
    finish_figure(figure, title)
