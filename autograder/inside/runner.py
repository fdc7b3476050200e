"""Run one graded notebook inside the sandbox: ``python -m autograder.inside.runner``.

Reads a job (JSON) on stdin: ``notebook``, ``learner_cells`` and ``course_cells``
(cell ids), ``cell_seconds``, ``wall_seconds``, ``output_bytes``, and
``matplotlib_font_list`` (the grader's, put into the kernel's ``MPLCONFIGDIR``). Starts the kernel of
:mod:`autograder.inside.kernel` with nbclient (its connection file in the sandbox's
private /tmp), runs the cells in order and writes one JSON object on stdout:

- ``notebook``: the executed notebook, outputs capped at ``output_bytes`` in all;
- ``stopped``: None, or why the run ended early: ``{"kind", "cell", "detail"}`` with kind
  ``cell-stuck`` (interrupted at ``cell_seconds``, still running :data:`GRACE_SECONDS`
  later), ``wall`` (the notebook's time is up) or ``kernel-exit`` (the kernel process
  ended; ``detail`` is its exit status);
- ``interrupted``: ids of cells interrupted at ``cell_seconds``;
- ``flags``: tamper evidence from the watch, and a flag when its heartbeats stop.

The runner makes itself non-dumpable (no ptrace, no /proc/PID/mem from the kernel)
and keeps its stdout to itself: the kernel's stdout and stderr are /dev/null.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode

from autograder.inside.kernel import CELL_ORDER, COURSE_CELLS, LEARNER_CELLS, WATCH_FD

KERNEL_NAME = "course-sandbox"
PR_SET_DUMPABLE = 4
MAX_FLAGS = 40
GRACE_SECONDS = 5  # after a cell's time is up and it was interrupted, it has this long to stop


class Watched(NotebookClient):
    """nbclient, plus: remembers which cells it interrupted, and caps output sizes."""

    def __init__(self, notebook: NotebookNode, output_bytes: int, **kwargs: Any) -> None:
        super().__init__(notebook, **kwargs)
        self.interrupted: list[str] = []
        self.budget = output_bytes

    async def _async_handle_timeout(self, timeout: int, cell: NotebookNode | None = None) -> None | dict[str, Any]:
        if cell is not None:
            self.interrupted.append(cell.id)
        return await super()._async_handle_timeout(timeout, cell)

    def output(
        self, outs: list[NotebookNode], msg: dict[str, Any], display_id: str | None, cell_index: int
    ) -> NotebookNode | None:
        content = msg["content"]
        size = len(content.get("text", "")) + sum(len(str(value)) for value in content.get("data", {}).values())
        size += sum(len(line) for line in content.get("traceback", []))
        if size > self.budget:
            note = f"[{size:,} characters of output removed: this notebook's output is over the grading limit]\n"
            header = {**msg["header"], "msg_type": "stream"}
            msg = {**msg, "msg_type": "stream", "header": header, "content": {"name": "stdout", "text": note}}
            size = len(note)
            if self.budget < size:
                return None
        self.budget -= size
        return super().output(outs, msg, display_id, cell_index)


def runs(cell: NotebookNode) -> bool:
    """Does nbclient execute this cell? (It skips markdown and empty code cells.)"""
    return cell.cell_type == "code" and bool(cell.source.strip())


def write_kernelspec(runtime: Path) -> None:
    folder = runtime / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "autograder.inside.kernel", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": "course sandbox", "language": "python"}
    (folder / "kernel.json").write_text(json.dumps(spec))


def seed_matplotlib_folder(font_list: dict[str, str]) -> None:
    """Give the kernel's empty matplotlib folder the grader's font list (``{file name: text}``)."""
    folder = Path(os.environ["MPLCONFIGDIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in font_list.items():
        (folder / Path(name).name).write_text(text)


class Run:
    """One notebook's execution and what it observed."""

    def __init__(self, job: dict[str, Any]) -> None:
        self.notebook = nbformat.from_dict(job["notebook"])
        self.cell_seconds: int = job["cell_seconds"]
        self.deadline = time.monotonic() + job["wall_seconds"]
        self.learner_cells: list[str] = job["learner_cells"]
        self.course_cells: list[str] = job["course_cells"]
        self.flags: list[str] = []
        self.heard = ""
        self.read_end, self.write_end = os.pipe()
        os.set_blocking(self.read_end, False)
        self.client = Watched(
            self.notebook,
            job["output_bytes"],
            kernel_name=KERNEL_NAME,
            timeout=self.cell_seconds,
            interrupt_on_timeout=True,
            allow_errors=True,
            iopub_timeout=2,
            shutdown_kernel="immediate",
        )

    def drain(self) -> None:
        """Read what the watch wrote; keep its flags (the first MAX_FLAGS distinct ones)."""
        chunks = []
        while True:
            try:
                chunk = os.read(self.read_end, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        self.heard += b"".join(chunks).decode("utf-8", "replace")
        *lines, self.heard = self.heard.split("\n")
        for line in lines:
            if line.startswith("flag ") and line[5:] not in self.flags and len(self.flags) < MAX_FLAGS:
                self.flags.append(line[5:])
            elif line.startswith("done "):
                self.done.add(line[5:])

    async def execute(self) -> dict[str, Any] | None:
        """Run every cell; the reason the run stopped early, or None."""
        self.done: set[str] = set()
        loop = asyncio.get_running_loop()
        loop.add_reader(self.read_end, self.drain)
        environment = {
            **os.environ,
            WATCH_FD: str(self.write_end),
            LEARNER_CELLS: " ".join(self.learner_cells),
            COURSE_CELLS: " ".join(self.course_cells),
            CELL_ORDER: " ".join(cell.id for cell in self.notebook.cells if runs(cell)),
        }
        quiet = os.open(os.devnull, os.O_WRONLY)
        kernel_io = {"stdout": quiet, "stderr": quiet, "pass_fds": (self.write_end,), "env": environment}
        async with self.client.async_setup_kernel(**kernel_io):
            os.close(self.write_end)
            silent_since: str | None = None
            for index, cell in enumerate(self.notebook.cells):
                if not runs(cell):
                    continue
                remaining = self.deadline - time.monotonic()
                if remaining <= 0:
                    return {"kind": "wall", "cell": cell.id, "detail": ""}
                task = asyncio.ensure_future(self.client.async_execute_cell(cell, index))
                await asyncio.wait({task}, timeout=min(remaining, self.cell_seconds + GRACE_SECONDS))
                if not task.done():  # nbclient turns its cancellation into DeadKernelError: ignore it
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                    stuck = self.deadline - time.monotonic() > 0
                    return {"kind": "cell-stuck" if stuck else "wall", "cell": cell.id, "detail": ""}
                if isinstance(task.exception(), DeadKernelError):
                    return {"kind": "kernel-exit", "cell": cell.id, "detail": await self.exit_status()}
                task.result()  # any other error of nbclient's ends the run (and the runner) loudly
                self.drain()
                if cell.id not in self.done and silent_since is None:
                    silent_since = cell.id
                    self.flags.append(f"{cell.id}: the grader's run-time watch stopped reporting (was it removed?)")
        return None

    async def exit_status(self) -> str:
        km = self.client.km
        code = await km.provisioner.poll() if km is not None and km.provisioner is not None else None
        return "unknown" if code is None else str(code)


def main() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    job = json.loads(sys.stdin.read())
    runtime = Path(os.environ["JUPYTER_RUNTIME_DIR"])
    write_kernelspec(runtime)
    seed_matplotlib_folder(job.get("matplotlib_font_list", {}))
    os.environ["JUPYTER_PATH"] = str(runtime)
    run = Run(job)
    stopped = asyncio.run(run.execute())
    run.drain()
    outcome = {"notebook": run.notebook, "stopped": stopped, "interrupted": run.client.interrupted, "flags": run.flags}
    sys.stdout.write(json.dumps(outcome))


if __name__ == "__main__":
    main()
