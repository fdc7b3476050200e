"""The sandbox's IPython kernel: ``python -m autograder.inside.kernel -f CONNECTION_FILE``.

It installs the tamper watch (:mod:`autograder.inside.watch`) before ipykernel or any
learner code is loaded, then starts ipykernel as usual. The runner passes the watch's
pipe and the cell roles in the environment, which is then cleared of them.
"""

from __future__ import annotations

import os
import sys

from autograder.inside import watch

WATCH_FD = "COURSE_WATCH_FD"
LEARNER_CELLS = "COURSE_LEARNER_CELLS"
COURSE_CELLS = "COURSE_COURSE_CELLS"
CELL_ORDER = "COURSE_CELL_ORDER"
# Never imported in this kernel: ipykernel skips debugpy (no debugger attaches here), and
# looptime, under coursekit, skips the pytest fixture it offers when pytest is installed
# (importing pytest costs 0.25 s of CPU a notebook).
NEVER_IMPORTED = ("debugpy", "pytest")


def main() -> None:
    fd = int(os.environ.pop(WATCH_FD))
    learner = set(os.environ.pop(LEARNER_CELLS).split())
    course = set(os.environ.pop(COURSE_CELLS).split())
    the_watch = watch.install(fd, os.environ.pop(CELL_ORDER).split(), learner, course)
    for name in NEVER_IMPORTED:
        sys.modules[name] = None  # type: ignore[assignment]
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(sys.argv[1:])
    watch.attach(the_watch, app.shell)
    app.start()


if __name__ == "__main__":
    main()
