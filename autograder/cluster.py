"""The Dask client batch grading hands its tasks to.

By default a ``LocalCluster`` in this process, sized to the machine: one worker with two
threads per core, so two notebooks per core are graded at once (a grading task only waits
for its sandboxed subprocess, so threads are enough). A notebook leaves its core idle for
part of its run (the kernel's start-up handshakes, the learner's sleeps) and this machine
records finished notebooks meanwhile; on 2 cores, 20 notebooks of chapter 0 took 50 s
graded one per core and 35 s two per core (``benchmarks/grading_throughput.py``).

With ``scheduler`` (``tcp://HOST:8786``), an existing cluster: its workers
must have the course installed and bubblewrap, and then run the same sandbox.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

NOTEBOOKS_PER_CORE = 2


def notebooks_at_once() -> int:
    """How many notebooks this machine grades at once by default: two per core."""
    return NOTEBOOKS_PER_CORE * (os.cpu_count() or 1)


@contextmanager
def grading_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A ``distributed.Client``: to ``scheduler``, or to a local cluster of ``workers`` threads."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler, timeout=30) as client:
            yield client
        return
    threads = workers or notebooks_at_once()
    with (
        # The worker's scratch space (dask-scratch-space/) goes with the batch, not left in /tmp.
        tempfile.TemporaryDirectory(prefix="grading-dask-") as scratch,
        # Dask's statistical profiler samples every thread every 10 ms: 1 s of CPU in a 50 s batch.
        dask.config.set({"distributed.worker.profile.enabled": False, "temporary-directory": scratch}),
        LocalCluster(  # in-process: its comms are in-memory, it listens on no port but the dashboard's
            n_workers=1, threads_per_worker=threads, processes=False, dashboard_address="127.0.0.1:0"
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
