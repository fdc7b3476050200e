"""Chapter 5's picture runs: a late lookup and its fallback, and a graceful shutdown of three tasks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from coursekit.chapters.timeouts.given import Operation, OperationFailed
from coursekit.traces import picture_run
from coursekit.virtual_time import VirtualRun, run_virtual

LOOKUP_TIMEOUT = 2.0  # seconds the fallback picture allows the 5 s lookup
GRACE = 3.0  # seconds the shutdown picture allows before cancelling


@picture_run("call_with_fallback")
def fallback_run(call_with_fallback: Callable[..., Any]) -> VirtualRun[Any]:
    """A 5 s lookup that needs 0.5 s to clean up when cancelled, with a 2 s timeout."""
    lookup = Operation("lookup", 5.0, result="fresh", cleanup=0.5)
    return run_virtual(lambda: call_with_fallback(lookup, LOOKUP_TIMEOUT, "cached"))


@picture_run("shutdown")
def shutdown_run(shutdown: Callable[..., Any]) -> VirtualRun[Any]:
    """Tasks of 1 s (returns), 2 s (fails) and 10 s (0.5 s of cleanup), with a 3 s grace period."""

    async def main() -> Any:
        operations = [
            Operation("quick", 1.0, result="ok"),
            Operation("broken", 2.0, error=OperationFailed("broken failed")),
            Operation("slow", 10.0, cleanup=0.5),
        ]
        tasks = [asyncio.create_task(operation(), name=operation.name) for operation in operations]
        return await shutdown(tasks, GRACE)

    return run_virtual(main)
