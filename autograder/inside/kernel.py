"""The sandbox's IPython kernel: ``python -m autograder.inside.kernel -f CONNECTION_FILE``.

It reads its job from :data:`JOB_FILE` beside the connection file (the runner writes both,
outside the sandbox): ``watch_fd`` (the watch's pipe, passed down to this process),
``learner_cells``, ``course_cells`` and ``order`` (cell ids), ``importable`` (the
third-party packages the learner may import), and ``matplotlib_font_list``
(the grader's, put into the empty ``MPLCONFIGDIR``). It installs the tamper watch
(:mod:`autograder.inside.watch`) before ipykernel or any learner code is loaded, then
starts ipykernel as usual, without a history database.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict

from autograder.inside import watch

JOB_FILE = "kernel-job.json"
# Never imported in this kernel: ipykernel skips debugpy (no debugger attaches here), and
# looptime, under coursekit, skips the pytest fixture it offers when pytest is installed
# (importing pytest costs 0.25 s of CPU a notebook).
NEVER_IMPORTED = ("debugpy", "pytest")


class KernelJob(TypedDict):
    """The kernel's job, as the runner writes it to :data:`JOB_FILE` (see the module's docstring)."""

    watch_fd: int
    learner_cells: Sequence[str]
    course_cells: Sequence[str]
    order: Sequence[str]
    importable: Sequence[str]
    matplotlib_font_list: dict[str, str]


def seed_matplotlib_folder(font_list: dict[str, str]) -> None:
    """Give the kernel's empty matplotlib folder the grader's font list (``{file name: text}``), so
    that a notebook's first plot does not rebuild it."""
    folder = Path(os.environ["MPLCONFIGDIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in font_list.items():
        (folder / Path(name).name).write_text(text)


def main() -> None:
    connection_file = sys.argv[sys.argv.index("-f") + 1]
    job: KernelJob = json.loads((Path(connection_file).parent / JOB_FILE).read_text())
    seed_matplotlib_folder(job["matplotlib_font_list"])
    the_watch = watch.install(
        job["watch_fd"], job["order"], set(job["learner_cells"]), set(job["course_cells"]), frozenset(job["importable"])
    )
    for name in NEVER_IMPORTED:
        sys.modules[name] = None  # type: ignore[assignment]
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize([*sys.argv[1:], "--HistoryManager.enabled=False"])  # no database of every cell's source
    watch.attach(the_watch, app.shell)
    app.start()


if __name__ == "__main__":
    main()
