"""Do one slow job per chapter, a few at a time, keeping each chapter's outcome apart.

A module-scoped fixture calls :func:`per_chapter` once for all its tests; each chapter's test
calls :func:`outcome_of`, which re-raises the error that stopped that chapter's job, so a
failure in one chapter fails only that chapter's tests.

Chapters run two per core at a time, as grade-all grades notebooks: a job that runs a
notebook leaves its core idle part of the time. Threads suit a job that waits on
subprocesses (grading in the sandbox). A job that runs nbgrader's Python API in the
process itself takes ``processes=True``: worker processes, each starting nbgrader once and
then doing chapter after chapter (nbgrader's apps do not run side by side in one process).
"""

from __future__ import annotations

import multiprocessing
import pickle
import traceback
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from pathlib import Path
from typing import TypeVar

from autograder.chapters import Chapter
from autograder.cluster import notebooks_at_once

T = TypeVar("T")


def per_chapter(
    job: Callable[[Chapter, Path], T],
    chapters: list[Chapter],
    root: Path,
    *,
    processes: bool = False,
) -> dict[str, T | BaseException]:
    """Assignment -> ``job(chapter, root / assignment)``, or the error that stopped it.

    With ``processes``, ``job`` is a module-level function, and its arguments, result and
    errors are pickled; the workers are fresh interpreters (``spawn``: nothing of this
    process's threads or state is forked into them). A worker process that dies (killed,
    out of memory) breaks its pool: every chapter left unfinished by it is then run again
    alone in a pool of its own, so only the chapter whose worker dies again gets the error."""
    outcomes, broken = _run_all(job, chapters, root, notebooks_at_once(), processes)
    for chapter in broken:
        outcomes.update(_run_all(job, [chapter], root, 1, processes)[0])
    return outcomes


def _run_all(
    job: Callable[[Chapter, Path], T], chapters: list[Chapter], root: Path, workers: int, processes: bool
) -> tuple[dict[str, T | BaseException], list[Chapter]]:
    """One pool's outcomes, and the chapters it left unfinished because a worker process died."""
    pool: Executor
    run: Callable[[Chapter, Path], T]
    if processes:
        pool, run = (
            ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")),
            partial(_portable, job),
        )
    else:
        pool, run = ThreadPoolExecutor(workers), job
    outcomes: dict[str, T | BaseException] = {}
    broken = []
    with pool:
        futures = {chapter: pool.submit(run, chapter, root / chapter.assignment) for chapter in chapters}
        for chapter, future in futures.items():
            try:
                outcomes[chapter.assignment] = future.result()
            except BrokenProcessPool as error:
                outcomes[chapter.assignment] = error
                broken.append(chapter)
            except Exception as error:  # noqa: BLE001  (re-raised by the chapter's tests, see outcome_of)
                outcomes[chapter.assignment] = error
    return outcomes, broken


def outcome_of(outcomes: dict[str, T | BaseException], chapter: Chapter) -> T:
    """``chapter``'s result; the error that stopped its job is raised here, in its own test."""
    outcome = outcomes[chapter.assignment]
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def _portable(job: Callable[[Chapter, Path], T], chapter: Chapter, folder: Path) -> T:
    """``job(chapter, folder)`` in a worker process. An error that pickle cannot bring back
    (one whose ``__init__`` wants other arguments than its ``args``, e.g. nbclient's
    CellExecutionError) would break the whole pool, failing every chapter: it comes back
    as a RuntimeError holding its traceback instead."""
    try:
        return job(chapter, folder)
    except Exception as error:
        try:
            pickle.loads(pickle.dumps(error))
        except Exception:  # noqa: BLE001  (any failure to make the trip back)
            raise RuntimeError("".join(traceback.format_exception(error))) from None
        raise
