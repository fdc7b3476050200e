"""The Dask client batch grading hands its tasks to.

By default a ``LocalCluster`` in this process, sized to the machine: one worker with two
threads per core, so two notebooks per core are graded at once (a grading task only waits
for its sandboxed subprocess, so threads are enough). A notebook leaves its core idle for
part of its run (the kernel's start-up handshakes, the learner's sleeps) and this machine
records finished notebooks meanwhile; on 2 cores, 20 notebooks of chapter 0 took 50 s
graded one per core and 35 s two per core (``benchmarks/grading_throughput.py``).

With ``scheduler`` (``tcp://HOST:8786``), an existing cluster: its workers
must have the course installed and bubblewrap, and then run the same sandbox. Each worker
must run one task at a time (``dask worker --nthreads 1``; ``--nworkers`` for more per
machine), and the batch tells the scheduler never to retry a task whose worker died
(:func:`one_loss_per_poison`): a notebook that takes its worker down costs one worker and
its own grade, never a classmate's.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from distributed import Client, Scheduler

NOTEBOOKS_PER_CORE = 2


class ClusterUnfit(Exception):
    """An existing cluster whose workers run several tasks at once: a notebook that kills its
    worker would fail the classmates graded beside it."""


def notebooks_at_once() -> int:
    """How many notebooks this machine grades at once by default: two per core."""
    return NOTEBOOKS_PER_CORE * (os.cpu_count() or 1)


@contextmanager
def grading_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Client]:
    """A ``distributed.Client``: to ``scheduler``, or to a local cluster of ``workers`` threads."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler, timeout=30) as client:
            one_loss_per_poison(client)
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


def one_loss_per_poison(client: Client) -> None:
    """Make an existing cluster fail a task at the first loss of the worker running it (Dask's
    default ``allowed-failures`` retries it on three more workers). Set on the running
    scheduler, so it holds whatever launched the cluster, and stays set after the batch.
    Raises :class:`ClusterUnfit`, naming them, if connected workers have more than one thread."""
    crowded = {
        address: worker["nthreads"]
        for address, worker in client.scheduler_info(n_workers=-1)["workers"].items()
        if worker["nthreads"] != 1
    }
    if crowded:
        listed = ", ".join(f"{address} ({threads} threads)" for address, threads in sorted(crowded.items()))
        raise ClusterUnfit(
            f"workers with more than one thread: {listed}. A notebook that kills its worker would fail every "
            "classmate graded on it; start workers with `dask worker --nthreads 1` (and --nworkers N for more "
            "per machine)"
        )
    client.run_on_scheduler(_fail_at_first_loss)


def _fail_at_first_loss(dask_scheduler: Scheduler) -> None:
    """Runs on the scheduler: a task whose worker dies is failed (KilledWorker), not retried."""
    dask_scheduler.allowed_failures = 0
