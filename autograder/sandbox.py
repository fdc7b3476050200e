"""Run untrusted code with bubblewrap (``bwrap``), one sandbox per submission.

:func:`kernel_sandbox` gives the command that starts a submission's kernel under
``prlimit`` (per-process limits) and ``bwrap`` with:

- new user, PID, IPC, UTS, cgroup and network namespaces (``--unshare-all``): the
  sandbox sees only its own processes, has only its own loopback, and runs as
  ``nobody`` with no capabilities; ``--die-with-parent`` and the PID namespace end every
  process it started when it ends;
- a read-only view of only the given folders (the interpreter, its packages, and what
  the caller binds), a private ``/proc`` and ``/dev``, and size-capped private tmpfs
  at ``/tmp`` and ``/dev/shm``, discarded with the sandbox;
- an environment of a few variables only (``--clearenv``);
- CPU seconds, address space, file size, open files and processes capped per process
  (``prlimit``; for an account other than root the process cap is the account's, see
  :func:`process_cap`);
- where control groups can be made (:mod:`autograder.cgroups`), the processes, the
  memory and the CPU share of the whole sandbox capped together.

:func:`run_capped` runs the (trusted) process that starts it and reads its result, under
caps and a wall-clock limit.

Where bwrap cannot run (not installed, no user namespaces), :func:`sandbox_problem`
says why; callers refuse unless the instructor passed ``--unsafe``.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, TypedDict

from autograder.cgroups import ENV as CGROUPS_ENV
from autograder.cgroups import JOIN, cgroup_problem, submission_cgroups

SANDBOX_ROOT = "/course"  # where the bound course files appear inside
SYSTEM_DIRS = ("/usr", "/etc/ld.so.cache", "/etc/localtime", "/etc/fonts")


@dataclass(frozen=True)
class Limits:
    """Per-submission limits. Memory, CPU time, files and processes are per process (rlimits);
    with control groups (:mod:`autograder.cgroups`), processes, memory and ``cpus`` are per sandbox."""

    cell_seconds: int = 60
    wall_seconds: int = 600
    cpu_seconds: int = 600
    memory_bytes: int = 2 * 1024**3
    file_bytes: int = 64 * 1024**2
    open_files: int = 256
    processes: int = 64
    tmp_bytes: int = 256 * 1024**2
    output_bytes: int = 4 * 1024**2
    cpus: float = 1.0  # cores the whole sandbox may use at once (a cgroup CPU quota, where there is one)


DEFAULT_LIMITS = Limits()


class KernelCommand(TypedDict):
    """How to start a submission's kernel (:func:`kernel_sandbox`; the runner's job carries it)."""

    argv: list[str]  # the command; "{connection_file}" in it is filled in by whoever starts it
    env: dict[str, str]  # the environment of the process that starts it
    share: str  # the folder for the kernel's connection file and sockets, bound read-write into the sandbox


@dataclass(frozen=True)
class Finished:
    """How a sandboxed command ended. ``timed_out``: killed at the wall limit."""

    returncode: int
    stdout: bytes
    stderr: bytes
    timed_out: bool


class SandboxUnavailable(RuntimeError):
    """bubblewrap cannot run here; the message says why."""


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


@functools.cache
def sandbox_problem() -> str | None:
    """Why no sandbox can be made on this machine, or None when bwrap works."""
    bwrap = bwrap_path()
    if bwrap is None:
        return (
            "bubblewrap (bwrap) is not installed; on Debian or Ubuntu `apt-get install bubblewrap` "
            "(python3 course.py test/start does it when run as root)"
        )
    probe = subprocess.run(
        [bwrap, "--unshare-all", "--ro-bind", "/", "/", "--", "true"], capture_output=True, text=True, timeout=30
    )
    if probe.returncode != 0:
        return (
            f"bubblewrap cannot create its namespaces here ({probe.stderr.strip() or probe.returncode}): "
            "user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone / "
            "user.max_user_namespaces) or the container forbids them"
        )
    return None


def interpreter_dirs() -> list[Path]:
    """Folders the Python interpreter and its installed packages live in."""
    found = {Path(sys.prefix), Path(sys.base_prefix), Path(sysconfig.get_paths()["stdlib"])}
    return sorted(path.resolve() for path in found if not str(path.resolve()).startswith(SYSTEM_DIRS[0]))


def bwrap_command(
    argv: list[str], limits: Limits, binds: dict[str, Path], env: dict[str, str], writable: Path | None = None
) -> list[str]:
    """The full command line: prlimit, then bwrap around ``argv``.

    ``binds`` maps a path inside the sandbox to a host path, bound read-only; ``writable`` is
    a host folder bound read-write at its own path."""
    bwrap = bwrap_path()
    assert bwrap is not None
    command = [
        "prlimit",
        f"--cpu={limits.cpu_seconds}",
        f"--as={limits.memory_bytes}",
        f"--fsize={limits.file_bytes}",
        f"--nofile={limits.open_files}",
        f"--nproc={process_cap(limits)}",
        "--",
        bwrap,
        "--unshare-all",
        "--uid",
        "65534",
        "--gid",
        "65534",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(limits.tmp_bytes),
        "--tmpfs",
        "/tmp",
        "--size",
        str(limits.tmp_bytes // 4),
        "--tmpfs",
        "/dev/shm",
    ]
    for system in SYSTEM_DIRS:
        command += ["--ro-bind-try", system, system]
    for link in ("bin", "lib", "lib64", "sbin"):
        if Path(f"/{link}").is_symlink():
            command += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
    for path in interpreter_dirs():
        command += ["--ro-bind", str(path), str(path)]
    for inside, outside in binds.items():
        command += ["--ro-bind", str(outside), inside]
    if writable is not None:
        command += ["--bind", str(writable), str(writable)]
    for name, value in env.items():
        command += ["--setenv", name, value]
    return [*command, "--chdir", "/tmp", "--", *argv]


def process_cap(limits: Limits) -> int:
    """The process cap (RLIMIT_NPROC) of a sandbox. Linux charges it to the real user id, counting
    every process and thread of the account, not those of one process; root is exempt. For root
    it is ``limits.processes``. For an ordinary account (the class hub's grader, whose grading
    server, Dask threads and other sandboxes run as it), a cap of ``limits.processes`` would kill
    kernels at start whenever the account is near it ("Kernel died before replying to
    kernel_info", or ``pthread_create failed``), so it is what the account runs now plus
    ``limits.processes`` for each notebook graded at once: a cap on the account, not on one
    sandbox (control groups, where they can be made, cap each sandbox)."""
    if os.getuid() == 0:
        return limits.processes
    from autograder.cluster import notebooks_at_once

    running = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        except (OSError, ValueError):
            continue  # ended meanwhile
        if int(status["Uid"].split()[0]) == os.getuid():
            running += int(status["Threads"])
    return running + limits.processes * notebooks_at_once()


@contextlib.contextmanager
def kernel_sandbox(
    argv: list[str], limits: Limits, binds: dict[str, Path], env: dict[str, str], *, unsafe: bool = False
) -> Iterator[KernelCommand]:
    """How to start one submission's kernel ``argv`` in a new sandbox, for as long as the block runs:
    ``{"argv", "env", "share"}``, the command and its environment for the process that starts it,
    and ``share``, a new empty folder bound read-write into the sandbox at its own path (for the
    kernel's connection file and sockets). Where control groups can be made, the sandbox joins
    its own (:mod:`autograder.cgroups`), removed with the block. With ``unsafe``: no sandbox at
    all, ``/tmp`` in ``env`` moved to ``share``.

    Raises :class:`SandboxUnavailable` when there is no sandbox and not ``unsafe``."""
    problem = None if unsafe else sandbox_problem()
    if problem:
        raise SandboxUnavailable(problem)
    groups: contextlib.AbstractContextManager[list[Path]] = contextlib.nullcontext([])
    if not unsafe and cgroup_problem() is None:
        groups = submission_cgroups(limits.processes, limits.memory_bytes, limits.cpus)
    with scratch_folder("kernel-") as share, groups as joined:
        if unsafe:
            moved = {name: value.replace("/tmp", share) for name, value in env.items()}
            yield {"argv": argv, "env": {**os.environ, **moved}, "share": share}
            return
        command = bwrap_command(argv, limits, binds, env, writable=Path(share))
        launch = {"PATH": os.environ.get("PATH", "/usr/bin")}
        if joined:
            command = ["/bin/sh", "-c", JOIN, "sh", *command]
            launch[CGROUPS_ENV] = " ".join(map(str, joined))
        yield {"argv": command, "env": launch, "share": share}


SCRATCH_PREFIXES = ("kernel-", "release-view-")
SCRATCH_NAME = re.compile(f"(?:{'|'.join(map(re.escape, SCRATCH_PREFIXES))})(\\d+)-")


def scratch_folder(prefix: str) -> tempfile.TemporaryDirectory[str]:
    """A new folder for one submission, named ``<prefix><this process's pid>-…`` (removed with the
    block; one whose grader was killed is removed by :func:`sweep_scratch`)."""
    assert prefix in SCRATCH_PREFIXES
    return tempfile.TemporaryDirectory(prefix=f"{prefix}{os.getpid()}-")


def sweep_scratch() -> None:
    """Remove the submission folders of graders that have ended without removing them (a Dask
    worker killed mid-task); never those of a grader still running, nor another account's. Every
    grader sweeps when it starts a notebook: a folder another one removes meanwhile is skipped."""
    folder = Path(tempfile.gettempdir())
    for entry in folder.iterdir():
        found = SCRATCH_NAME.match(entry.name)
        if found and not running(int(found.group(1))) and owned_by_this_account(entry):
            shutil.rmtree(entry, ignore_errors=True)


def owned_by_this_account(path: Path) -> bool:
    """Is ``path`` itself (a link is not followed) this account's? False once it is gone."""
    try:
        return path.lstat().st_uid == os.getuid()
    except OSError:
        return False


def running(pid: int) -> bool:
    """Is process ``pid`` running (a zombie, killed but not yet reaped, is not)?"""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def run_capped(command: list[str], stdin: bytes, limits: Limits, env: dict[str, str]) -> Finished:
    """Run ``command`` (in a session of its own, killed with it at ``limits.wall_seconds`` + 30 s),
    feeding it ``stdin``; keep at most :data:`RESULT_MAX_BYTES` of its stdout (past that it is
    killed and has no result) and the last :data:`STDERR_KEPT_BYTES` of its stderr."""
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    # With PIPE and the default buffering, stdout and stderr are buffered readers (typeshed: IO[bytes]).
    assert process.stdin and isinstance(process.stdout, io.BufferedReader)
    assert isinstance(process.stderr, io.BufferedReader)
    stop = functools.partial(_kill_group, process.pid)
    stdout = CappedReader(process.stdout, RESULT_MAX_BYTES, keep="head", on_overflow=stop)
    stderr = CappedReader(process.stderr, STDERR_KEPT_BYTES, keep="tail")
    threading.Thread(target=_feed, args=(process.stdin, stdin), daemon=True).start()
    try:
        process.wait(timeout=limits.wall_seconds + 30)
        timed_out = False
    except subprocess.TimeoutExpired:
        stop()
        process.wait()
        timed_out = True
    out, err = stdout.result(), stderr.result()
    return Finished(process.returncode, b"" if timed_out or stdout.overflowed else out, err, timed_out=timed_out)


RESULT_MAX_BYTES = 32 * 1024**2  # the runner's result: the rebuilt notebook, its outputs capped at 4 MB
STDERR_KEPT_BYTES = 20_000  # the end of what the sandbox wrote to stderr, for the grader's log
PIPE_GRACE_SECONDS = 10  # how long a pipe may stay open after the sandbox's process ended


class CappedReader:
    """Reads a pipe to its end in a thread of its own, keeping at most ``cap`` bytes: the first
    (``keep="head"``; past the cap ``on_overflow`` is called once and the rest is read and dropped)
    or the last (``keep="tail"``). Nothing the sandbox writes is buffered whole."""

    def __init__(
        self,
        pipe: io.BufferedReader,
        cap: int,
        *,
        keep: Literal["head", "tail"],
        on_overflow: Callable[[], None] | None = None,
    ) -> None:
        self.pipe, self.cap, self.keep, self.on_overflow = pipe, cap, keep, on_overflow
        self.kept = bytearray()
        self.overflowed = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        with self.pipe:
            while chunk := self.pipe.read1(1 << 16):
                if self.keep == "tail":
                    self.kept += chunk
                    del self.kept[: max(0, len(self.kept) - self.cap)]
                elif len(self.kept) + len(chunk) <= self.cap:
                    self.kept += chunk
                elif not self.overflowed:
                    self.overflowed = True
                    if self.on_overflow is not None:
                        self.on_overflow()

    def result(self) -> bytes:
        """What was kept, once the pipe has ended, or after :data:`PIPE_GRACE_SECONDS` (something left
        running outside the sandbox's process group may hold the pipe open: what it writes later is lost)."""
        self.thread.join(PIPE_GRACE_SECONDS)
        return bytes(self.kept)


def _feed(pipe: IO[bytes], data: bytes) -> None:
    """Write ``data`` to the sandbox's stdin and close it (it may stop reading: that is its problem)."""
    with contextlib.suppress(OSError), pipe:
        pipe.write(data)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
