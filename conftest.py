"""Suite-wide pytest hooks: the tests marked ``every_core`` last, a check that grading leaves
nothing behind, and at the end of a run, the wall time spent in each test file.

A file's time is the sum of its tests' setup, call and teardown durations (module
fixtures count where they run), so the slow parts of the suite are plain to see."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator

import pytest

_seconds_by_file: defaultdict[str, float] = defaultdict(float)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked ``every_core`` (many notebooks graded at once) run after the others of their
    run, in their order: ``course.py test``'s runs share the machine's cores, and when the others
    have ended, these keep every core busy where a test that grades one notebook at a time would
    leave all but one idle."""
    items.sort(key=lambda item: item.get_closest_marker("every_core") is not None)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _seconds_by_file[report.nodeid.split("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _seconds_by_file:
        return
    terminalreporter.section("time per test file")
    for path, seconds in sorted(_seconds_by_file.items(), key=lambda item: -item[1]):
        terminalreporter.write_line(f"{seconds:8.1f} s  {path}")
    terminalreporter.write_line(f"{sum(_seconds_by_file.values()):8.1f} s  in all")


@pytest.fixture(autouse=True)
def nothing_left_by_grading() -> Iterator[None]:
    """Every test leaves no sandbox, runner, kernel or grading folder behind (tests/grading_leftovers.py).

    In the run of the suite that runs no grading (``course.py test`` runs it beside the grading
    run, with ``ASYNCIO_COURSE_TESTS_RUN_NO_GRADING`` set), a test may start no grading process of
    its own: what the other runs have running is not its. The run of the tests that start a class
    hub (``ASYNCIO_COURSE_TESTS_RUN_A_HUB``) grades as the hub's accounts, whose leftovers its own
    tests check; the grading run looks only at this account's processes and folders."""
    from tests.grading_leftovers import grading_processes, left_since, own_processes, present

    if os.environ.get("ASYNCIO_COURSE_TESTS_RUN_A_HUB"):
        yield
        return
    if os.environ.get("ASYNCIO_COURSE_TESTS_RUN_NO_GRADING"):
        yield
        started = grading_processes(own_processes())
        assert not started, f"a test of the run that runs no grading started grading: {started}"
        return
    before = present()
    yield
    left = left_since(before)
    assert not left, f"left behind: {left}"
