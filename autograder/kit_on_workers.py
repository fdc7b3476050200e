"""The batch's grading kit on the Dask workers: sent once to each worker, not with every task.

The kit travels as a worker plugin, which the scheduler keeps and gives to every worker,
including one that joins after the batch started (a worker restarted after a loss). The
tasks name it. Imported only when a batch starts: it loads ``distributed``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from distributed import Client, WorkerPlugin, get_worker

from autograder.grading import grade_submission
from autograder.kit import GradingKit
from autograder.report import Graded
from autograder.sandbox import Limits


class KitPlugin(WorkerPlugin):
    """Holds a grading kit on a worker."""

    def __init__(self, kit: GradingKit) -> None:
        self.kit = kit


@contextmanager
def kit_on_workers(client: Client, kit: GradingKit) -> Iterator[str]:
    """Send ``kit`` to every worker of ``client``'s cluster for the block's duration; yields the
    name a task gives :func:`grade_on_worker`."""
    name = f"grading-kit-{secrets.token_hex(8)}"  # two batches on one cluster keep theirs apart
    client.register_plugin(KitPlugin(kit), name=name)
    try:
        yield name
    finally:
        client.unregister_worker_plugin(name)


def grade_on_worker(kit_name: str, name: str, data: bytes, limits: Limits, unsafe: bool) -> Graded:
    """A grading task: :func:`autograder.grading.grade_submission` with the kit sent to this worker."""
    plugin = get_worker().plugins[kit_name]
    assert isinstance(plugin, KitPlugin)
    return grade_submission(plugin.kit, name, data, limits, unsafe)
