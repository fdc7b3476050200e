"""Run one graded notebook, its kernel in a sandbox: ``python -m autograder.runner``.

The runner itself runs outside the sandbox, as the grader does, and never runs learner
code; only the kernel it starts (:mod:`autograder.inside.kernel`) is sandboxed. So no
process of the learner's holds the pipe this result goes back on: the kernel's only ways
out are its Jupyter sockets (in ``kernel.share``, a folder of the runner's bound into the
sandbox) and the watch's pipe, both read here under caps.

Reads a job (JSON) on stdin: ``notebook``, ``learner_cells`` and ``course_cells`` (cell
ids), ``importable`` (the third-party packages a learner's answer may import without a
review flag), ``cell_seconds``, ``wall_seconds``, ``output_bytes``, ``runner_memory_bytes`` (its own
address-space cap), ``matplotlib_font_list``,
``probes`` (cells to run right after a graded cell: ``{"after", "id", "source"}``, see
:mod:`autograder.hidden_scenarios`) and ``kernel``: ``{"argv", "env", "share"}``, the
command that starts the sandboxed kernel (``{connection_file}`` in it is filled in), its
environment, and the folder for its connection file and sockets. Runs the cells in order
and writes one JSON object on stdout:

- ``notebook``: the executed notebook, outputs capped at ``output_bytes`` in all and at
  :data:`MAX_OUTPUTS` outputs;
- ``stopped``: None, or why the run ended early: ``{"kind", "cell", "detail"}`` with kind
  ``cell-stuck`` (interrupted at ``cell_seconds``, still running :data:`GRACE_SECONDS`
  later), ``wall`` (the notebook's time is up), ``kernel-exit`` (the kernel process
  ended; ``detail`` is its exit status) or ``wrote-outside`` (the kernel put files into
  its socket folder: it is killed within :data:`SHARE_LOOK_SECONDS`);
- ``interrupted``: ids of cells interrupted at ``cell_seconds``;
- ``observations``: graded cell's id -> the observations its probe cell displayed first as
  :data:`OBSERVATIONS` (the probe cells themselves are not in ``notebook``);
- ``flags``: tamper evidence from the watch, and a flag when its heartbeats stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import resource
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode

from autograder.inside.kernel import JOB_FILE, KernelJob

if TYPE_CHECKING:
    from autograder.hidden_scenarios import ProbeCell
    from autograder.sandbox import KernelCommand

KERNEL_NAME = "course-sandbox"
PR_SET_PDEATHSIG = 1
MAX_FLAGS = 40
GRACE_SECONDS = 5  # after a cell's time is up and it was interrupted, it has this long to stop
OBSERVATIONS = "application/vnd.asyncio-course.observations+json"  # coursekit.probing.MIME
MAX_OUTPUTS = 2_000  # in the whole notebook (the references make about 200)
SHARE_LOOK_SECONDS = 0.5
HEARD_MAX_CHARACTERS = 65_536  # of a line from the watch not yet ended
PROBE_OUTPUT_BYTES = 1024**2  # the output budget of each probe cell, apart from the notebook's
PROBE_OUTPUTS = 100


class RunnerJob(TypedDict):
    """What the runner reads on stdin (see the module's docstring; :mod:`autograder.grading` writes it)."""

    notebook: dict[str, Any]  # the rebuilt notebook, as JSON
    learner_cells: Sequence[str]
    course_cells: Sequence[str]
    importable: Sequence[str]
    cell_seconds: int
    wall_seconds: int
    output_bytes: int
    runner_memory_bytes: int
    matplotlib_font_list: dict[str, str]
    probes: list[ProbeCell]
    kernel: KernelCommand


class Stopped(TypedDict):
    """Why a run ended early (see the module's docstring)."""

    kind: Literal["cell-stuck", "wall", "kernel-exit", "wrote-outside"]
    cell: str
    detail: str  # the kernel's exit status, for kernel-exit ("" otherwise)


class RunnerOutcome(TypedDict):
    """What the runner writes on stdout (see the module's docstring)."""

    notebook: dict[str, Any]  # the executed notebook, as JSON
    stopped: Stopped | None
    interrupted: list[str]
    flags: list[str]
    observations: dict[str, Any]  # {graded cell's id: what its probe cell displayed (the kernel's, unchecked)}


class Watched(NotebookClient):
    """nbclient, plus: remembers which cells it interrupted, and caps outputs: ``output_bytes``
    characters in all (a display updated through its ``display_id`` counts once per copy) and
    :data:`MAX_OUTPUTS` outputs."""

    def __init__(self, notebook: NotebookNode, output_bytes: int, **kwargs: Any) -> None:
        super().__init__(notebook, store_widget_state=False, **kwargs)
        self.interrupted: list[str] = []
        self.budget = output_bytes
        self.outputs_left = MAX_OUTPUTS

    async def _async_handle_timeout(self, timeout: int, cell: NotebookNode | None = None) -> None | dict[str, Any]:
        if cell is not None:
            self.interrupted.append(cell.id)
        return await super()._async_handle_timeout(timeout, cell)

    def charge(self, msg: dict[str, Any], copies: int = 1) -> dict[str, Any] | None:
        """``msg``, or a short note in its place when its output (times ``copies``) is over the
        budget, or None when not even the note fits; the budget pays for what is kept."""
        content = msg["content"]
        size = len(content.get("text", "")) + sum(len(str(value)) for value in content.get("data", {}).values())
        size = (size + sum(len(line) for line in content.get("traceback", []))) * copies
        if size > self.budget:
            note = f"[{size:,} characters of output removed: this notebook's output is over the grading limit]\n"
            if self.budget < len(note) * copies:
                return None
            size = len(note) * copies
            if msg["msg_type"] in ("stream", "error"):
                header = {**msg["header"], "msg_type": "stream"}
                msg = {**msg, "msg_type": "stream", "header": header, "content": {"name": "stdout", "text": note}}
            else:
                msg = {**msg, "content": {**content, "data": {"text/plain": note}, "metadata": {}}}
        self.budget -= size
        return msg

    def output(
        self, outs: list[NotebookNode], msg: dict[str, Any], display_id: str | None, cell_index: int
    ) -> NotebookNode | None:
        self.outputs_left -= 1
        if self.outputs_left < 0:
            return None
        if self.outputs_left == 0:
            note = f"[more outputs removed: this notebook made over {MAX_OUTPUTS:,} outputs, the grading limit]\n"
            msg = {**msg, "msg_type": "stream", "header": {**msg["header"], "msg_type": "stream"}}
            msg["content"] = {"name": "stdout", "text": note}
        kept = self.charge(msg)
        return None if kept is None else super().output(outs, kept, display_id, cell_index)

    def _update_display_id(self, display_id: str, msg: dict[str, Any]) -> None:
        copies = sum(len(indices) for indices in self._display_id_map.get(display_id, {}).values())
        kept = self.charge(msg, copies) if copies else msg
        if kept is not None:
            with contextlib.suppress(IndexError, KeyError):  # a display in a cell the notebook no longer has
                super()._update_display_id(display_id, kept)


def runs(cell: NotebookNode) -> bool:
    """Does nbclient execute this cell? (It skips markdown and empty code cells.)"""
    return cell.cell_type == "code" and bool(cell.source.strip())


def write_kernelspec(folder: Path, argv: list[str]) -> None:
    """The sandboxed kernel's spec, in ``folder/kernels``. Interrupts go as messages: a signal
    would reach the sandbox's outer process, not the kernel."""
    spec_folder = folder / "kernels" / KERNEL_NAME
    spec_folder.mkdir(parents=True, exist_ok=True)
    spec = {"argv": argv, "display_name": "course sandbox", "language": "python", "interrupt_mode": "message"}
    (spec_folder / "kernel.json").write_text(json.dumps(spec))


class Run:
    """One notebook's execution and what it observed."""

    def __init__(self, job: RunnerJob) -> None:
        self.notebook: NotebookNode = nbformat.from_dict(job["notebook"])
        self.cell_seconds = job["cell_seconds"]
        self.deadline = time.monotonic() + job["wall_seconds"]
        self.learner_cells = job["learner_cells"]
        self.course_cells = job["course_cells"]
        self.importable = job["importable"]
        self.kernel = job["kernel"]
        self.share = Path(self.kernel["share"])
        self.font_list = job.get("matplotlib_font_list", {})
        self.probes: dict[str, list[NotebookNode]] = {}
        for probe in job.get("probes", []):
            cell: NotebookNode = nbformat.v4.new_code_cell(probe["source"])
            cell.id = probe["id"]
            self.probes.setdefault(probe["after"], []).append(cell)
        self.observations: dict[str, Any] = {}
        self.expected: set[str] = set()
        self.wrote_outside = False
        self.flags: list[str] = []
        self.heard = ""
        self.read_end, self.write_end = os.pipe()
        os.set_blocking(self.read_end, False)
        manager = AsyncKernelManager(kernel_name=KERNEL_NAME, transport="ipc", ip=str(self.share / "k"))
        manager.connection_file = str(self.share / "connection.json")
        self.client = Watched(
            self.notebook,
            job["output_bytes"],
            km=manager,
            kernel_name=KERNEL_NAME,
            timeout=self.cell_seconds,
            interrupt_on_timeout=True,
            allow_errors=True,
            iopub_timeout=2,
            shutdown_kernel="immediate",
        )

    def drain(self) -> None:
        """Read what the watch wrote (at most 1 MB a call: the loop calls again while there is more);
        keep its flags (the first MAX_FLAGS distinct ones)."""
        chunks = []
        for _ in range(16):
            try:
                chunk = os.read(self.read_end, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        self.heard += b"".join(chunks).decode("utf-8", "replace")
        *lines, self.heard = self.heard.split("\n")
        self.heard = self.heard[-HEARD_MAX_CHARACTERS:]  # a line that never ends is not kept whole
        for line in lines:
            if line.startswith("flag ") and line[5:] not in self.flags and len(self.flags) < MAX_FLAGS:
                self.flags.append(line[5:])
            elif line.startswith("done "):
                self.done.add(line[5:])

    async def execute(self) -> Stopped | None:
        """Run every cell; the reason the run stopped early, or None."""
        self.done: set[str] = set()
        loop = asyncio.get_running_loop()
        loop.add_reader(self.read_end, self.drain)
        kernel_job: KernelJob = {
            "watch_fd": self.write_end,
            "learner_cells": self.learner_cells,
            "course_cells": [*self.course_cells, *(p.id for ps in self.probes.values() for p in ps)],
            "order": self.order(),
            "importable": self.importable,
            "matplotlib_font_list": self.font_list,
        }
        (self.share / JOB_FILE).write_text(json.dumps(kernel_job))
        write_kernelspec(self.share, self.kernel["argv"])
        quiet = os.open(os.devnull, os.O_WRONLY)
        kernel_io = {"stdout": quiet, "stderr": quiet, "pass_fds": (self.write_end,), "env": self.kernel["env"]}
        async with self.client.async_setup_kernel(**kernel_io):
            os.close(self.write_end)
            self.expected = set(os.listdir(self.share))  # the job, the spec, the connection file, the sockets
            self.look_at_share()
            silent_since: str | None = None
            for index, cell in enumerate(self.notebook.cells):
                if not runs(cell):
                    continue
                for each in [cell, *self.probes.get(cell.id, [])]:
                    stopped = await self.run_cell(each, index)
                    if stopped:
                        return stopped
                    self.drain()
                    if each.id not in self.done and silent_since is None:
                        silent_since = each.id
                        self.flags.append(f"{each.id}: the grader's run-time watch stopped reporting (was it removed?)")
        return None

    def look_at_share(self) -> None:
        """Every :data:`SHARE_LOOK_SECONDS`: a kernel that put anything into its socket folder (on the
        grader's disk) is killed on the spot."""
        if set(os.listdir(self.share)) - self.expected:
            self.wrote_outside = True
            km = self.client.km
            if km is not None and km.provisioner is not None:
                asyncio.ensure_future(km.provisioner.kill())
            return
        asyncio.get_running_loop().call_later(SHARE_LOOK_SECONDS, self.look_at_share)

    def order(self) -> list[str]:
        """The ids of the cells the kernel will run, in order (probe cells included)."""
        return [each.id for cell in self.notebook.cells if runs(cell) for each in [cell, *self.probes.get(cell.id, [])]]

    async def run_cell(self, cell: NotebookNode, index: int) -> Stopped | None:
        """Run one cell (a probe cell with an output budget of its own); why the run must stop, or None."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            return {"kind": "wall", "cell": cell.id, "detail": ""}
        graded = self.notebook.cells[index]
        probe = cell is not graded
        kept = self.client.budget, self.client.outputs_left
        if probe:
            self.client.budget, self.client.outputs_left = PROBE_OUTPUT_BYTES, PROBE_OUTPUTS
        task = asyncio.ensure_future(self.client.async_execute_cell(cell, index))
        await asyncio.wait({task}, timeout=min(remaining, self.cell_seconds + GRACE_SECONDS))
        if probe:  # nbclient put the probe cell in the graded cell's place: it is not part of the notebook
            self.client.budget, self.client.outputs_left = kept
            self.notebook.cells[index] = graded
        if not task.done():  # nbclient turns its cancellation into DeadKernelError: ignore it
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            stuck = self.deadline - time.monotonic() > 0
            return {"kind": "cell-stuck" if stuck else "wall", "cell": cell.id, "detail": ""}
        if self.wrote_outside or set(os.listdir(self.share)) - self.expected:
            return {"kind": "wrote-outside", "cell": cell.id, "detail": ""}
        if isinstance(task.exception(), DeadKernelError):
            return {"kind": "kernel-exit", "cell": cell.id, "detail": await self.exit_status()}
        task.result()  # any other error of nbclient's ends the run (and the runner) loudly
        if probe:
            self.keep_observations(cell, graded.id)
        return None

    def keep_observations(self, probe: NotebookNode, graded: str) -> None:
        """Keep the first observations the probe cell of cell ``graded`` displayed (any other output is dropped)."""
        for output in probe.get("outputs", []):
            found = output.get("data", {}).get(OBSERVATIONS)
            if isinstance(found, dict) and graded not in self.observations:
                self.observations[graded] = found.get("observations")

    async def exit_status(self) -> str:
        km = self.client.km
        code = await km.provisioner.poll() if km is not None and km.provisioner is not None else None
        return "unknown" if code is None else str(code)


def die_with_the_grader() -> None:
    """End when the process that started this one ends (a Dask worker killed mid-task): the kernel's
    sandbox ends with this process in turn (bwrap's ``--die-with-parent``)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the grader ended before the line above
        os._exit(1)


def main() -> None:
    die_with_the_grader()
    job: RunnerJob = json.loads(sys.stdin.read())
    cap = job["runner_memory_bytes"]
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    os.environ["JUPYTER_RUNTIME_DIR"] = os.environ["JUPYTER_PATH"] = job["kernel"]["share"]
    run = Run(job)
    stopped = asyncio.run(run.execute())
    run.drain()
    outcome: RunnerOutcome = {
        "notebook": run.notebook,
        "stopped": stopped,
        "interrupted": run.client.interrupted,
        "flags": run.flags,
        "observations": run.observations,
    }
    sys.stdout.write(json.dumps(outcome))


if __name__ == "__main__":
    main()
