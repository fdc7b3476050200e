"""The grader reads what the runner writes under a cap and never buffers it whole: a flood on stderr
keeps only its end, a result past its cap stops the runner and counts as no result."""

from __future__ import annotations

import resource
import sys

import pytest

from autograder import sandbox
from autograder.sandbox import STDERR_KEPT_BYTES, Limits, run_capped

LIMITS = Limits(cell_seconds=60, wall_seconds=120)


def run(code: str) -> sandbox.Finished:
    """``code`` run by this Python as the grader runs the runner (the reading of its pipes is what is tested here)."""
    return run_capped([sys.executable, "-c", code], b"", LIMITS, {})


def test_a_flood_on_stderr_keeps_only_its_end() -> None:
    flood = "import sys\nfor _ in range(300):\n    sys.stderr.buffer.write(b'x' * 1_000_000)\n"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB, the grader's own peak
    finished = run(flood + "sys.stderr.buffer.write(b'THE END')\nprint('result')")
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert finished.stdout == b"result\n" and finished.returncode == 0
    assert finished.stderr.endswith(b"THE END") and len(finished.stderr) == STDERR_KEPT_BYTES
    assert grown < 64 * 1024, f"reading 300 MB of stderr grew the grader's peak memory by {grown // 1024} MB"


def test_a_result_past_its_cap_stops_the_sandbox_and_is_no_result(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "RESULT_MAX_BYTES", 1_000_000)
    finished = run("import sys, time\nsys.stdout.buffer.write(b'y' * 5_000_000)\nsys.stdout.flush()\ntime.sleep(300)")
    assert finished.stdout == b"" and not finished.timed_out
    assert finished.returncode == -9, "the sandbox was killed when it went past the cap, not left to sleep"
