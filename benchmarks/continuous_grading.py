#!/usr/bin/env python3
"""Continuous grading on the class hub: submit -> feedback-visible latency with learners handing in at once.

    sudo .venv/bin/python benchmarks/continuous_grading.py [--learners 20] [--window 60] [--seed N]

Starts ``python3 course.py hub --grade-continuously`` for a throwaway class (1 instructor and N
learners, accounts with a random prefix, a state folder of its own, 127.0.0.1 on a free port,
chapter 0 published; :func:`tests.class_hub.class_hub`) and waits until its service
``continuous-grading`` watches the exchange. Each learner's workspace is made as their server makes
it. Then each learner, at a moment drawn at random (uniformly) within the first WINDOW seconds,
hands in from their own account (``nbgrader submit``, as the learner, in their workspace): three
in four the solved chapter, one in four the copy they were given, untouched (0 points). Right after,
as the same account, :mod:`tests.feedback_visible` checks every 0.2 s where that learner's
``nbgrader fetch_feedback`` would find their page (the feedback folder cannot be listed; the page
is named by a hash of the submission's secret), until it is there.

The latency of a learner is from their submission's timestamp (nbgrader's, taken as its submit
starts) to the first check that found the page. It prints each learner's latency and score, then
the median, p95 (nearest rank) and max, how many notebooks the service graded (from its log) and the
machine's load while they handed in. Nobody runs ``grade-all``. The hub is stopped and the accounts and
folders deleted at the end, whatever happened. Root only. Not a test: figures vary with the machine
and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.class_hub import ROOT, class_hub  # noqa: E402
from tests.hostile_submissions import CHAPTER, solved  # noqa: E402
from tests.test_hub import Hub  # noqa: E402
from tests.test_hub_continuous import NOTEBOOK, prepare_workspace  # noqa: E402

WRONG_EVERY = 4  # every fourth learner hands in the untouched copy


def roster(learners: int) -> str:
    entries = ['[[instructor]]\nusername = "ins"\n']
    entries += [f'[[learner]]\nusername = "l{number:02d}"\n' for number in range(learners)]
    return "\n".join(entries)


def wait_for_service(hub: Hub, deadline: float) -> None:
    while time.monotonic() < deadline:
        if "[continuous-grading" in hub.log.read_text(errors="replace") and "watching" in hub.log.read_text():
            return
        time.sleep(0.5)
    raise SystemExit(f"the service continuous-grading did not start:\n{hub.log.read_text()[-3000:]}")


def workspace_of(learner: str) -> Path:
    return Path(os.path.expanduser(f"~{learner}")) / "workspace"


def answer(learner: str, index: int) -> str:
    """Write the learner's notebook: solved, or every WRONG_EVERY-th left as given; the score expected."""
    if index % WRONG_EVERY == WRONG_EVERY - 1:
        return "0/6"
    path = workspace_of(learner) / CHAPTER / NOTEBOOK
    notebook = nbformat.read(path, as_version=4)
    notebook.cells = solved().cells
    nbformat.write(notebook, path)
    stat = path.parent.stat()
    os.chown(path, stat.st_uid, stat.st_gid)
    return "6/6"


def hand_in_and_wait(learner: str, delay: float, start: float, timeout: float) -> dict[str, object]:
    """At ``start + delay``: submit as the learner, then wait as the learner until the feedback is visible
    (``timeout`` seconds at most once submitted; the submit itself is not limited: on a loaded machine
    its start-up takes long, and the latency is counted from its timestamp, not from ``delay``)."""
    time.sleep(max(0.0, start + delay - time.monotonic()))
    workspace = workspace_of(learner)
    script = (
        f"python -m nbgrader submit {CHAPTER} >/dev/null 2>submit.log && "
        f"exec python -m tests.feedback_visible {workspace} {CHAPTER} {timeout}"
    )
    env = {
        "PATH": f"{ROOT / '.venv' / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(workspace.parent),
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        ["runuser", "-u", learner, "--", "sh", "-c", script],
        cwd=workspace, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        out, err = process.communicate(timeout=timeout + 600)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its own session: runuser, the shell and the python in it
        out, err = process.communicate()
    lines = out.strip().splitlines()
    report: dict[str, object] = json.loads(lines[-1]) if lines else {"found": False, "error": err[-500:]}
    report["learner"], report["delay"] = learner, round(delay, 1)
    return report


def scores(log: str) -> dict[str, str]:
    found = re.findall(r"\[continuous-grading [^]]*\] \S+ (\S+): ([\d.]+/[\d.]+), feedback", log)
    return dict(found)  # the last line of each learner wins


def run(learners: int, window: float, seed: int, timeout: float, keep_log: Path | None) -> None:
    rng = random.Random(seed)
    options = ("--grade-continuously", "--chapters", CHAPTER)
    with class_hub(roster(learners), *options, prefix_letter="b", keep_log=keep_log) as hub:
        wait_for_service(hub, time.monotonic() + 120)
        people = list(hub.accounts.learners)
        with ThreadPoolExecutor(4) as pool:
            for made in pool.map(lambda person: prepare_workspace(hub, person), people):
                assert made.returncode == 0, made.stderr
        expected = {person: answer(person, index) for index, person in enumerate(people)}
        delays = {person: rng.uniform(0, window) for person in people}
        print(f"{learners} learners hand in within {window:g} s (seed {seed}); {os.cpu_count()} cores", flush=True)
        start = time.monotonic()
        loads: list[float] = []
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.wait(5):
                loads.append(os.getloadavg()[0])

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        with ThreadPoolExecutor(len(people)) as pool:
            reports = list(pool.map(lambda p: hand_in_and_wait(p, delays[p], start, timeout), people))
        sampling.set()
        elapsed = time.monotonic() - start
        log = hub.log.read_text(errors="replace")
    graded = scores(log)
    print(f"\n{'learner':<12} {'hands in at':>11} {'latency':>8}  score (expected)")
    for report in sorted(reports, key=lambda r: float(r["delay"])):  # type: ignore[arg-type]
        learner = str(report["learner"])
        latency = f"{report['latency']:.1f} s" if report.get("found") else "NOT SEEN"
        score = graded.get(learner, "?")
        print(f"{learner:<12} {report['delay']:>9} s {latency:>8}  {score} ({expected[learner]})")
    latencies = [float(r["latency"]) for r in reports if r.get("found")]  # type: ignore[arg-type]
    print(f"\nfeedback visible for {len(latencies)} of {len(reports)}; all done after {elapsed:.0f} s")
    if latencies:
        print(
            f"submit -> feedback visible: median {statistics.median(latencies):.1f} s, "
            f"p95 {np.percentile(latencies, 95, method='inverted_cdf'):.1f} s, max {max(latencies):.1f} s"
        )
    graded_lines = re.findall(r"\[continuous-grading [^]]*\] \S+ \S+: [\d.]+/[\d.]+, feedback", log)
    print(f"notebooks the service graded: {len(graded_lines)} (one per submission)")
    wrong = [p for p in expected if graded.get(p) != expected[p]]
    print(
        f"scores as expected for {len(expected) - len(wrong)} of {len(expected)}" + (f": not {wrong}" if wrong else "")
    )
    if loads:
        print(f"load average (1 min) while they handed in: median {statistics.median(loads):.1f}, max {max(loads):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=20)
    parser.add_argument("--window", type=float, default=60.0, help="seconds within which they all hand in")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument(
        "--timeout", type=float, default=150.0, help="seconds a learner waits for feedback once submitted"
    )
    parser.add_argument("--keep-log", type=Path, help="copy the hub's output (the service's log lines) here")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: the hub makes system accounts")
    run(args.learners, args.window, args.seed, args.timeout, args.keep_log)


if __name__ == "__main__":
    main()
