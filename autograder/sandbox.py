"""Start an IPython kernel for untrusted learner code, with operating-system limits.

Used as a kernel's argv (see :func:`install_kernelspec`): jupyter_client starts

    unshare --net python -m autograder.sandbox CONNECTION_FILE

as root; this module then, before any learner code runs:

- caps CPU time, address space (memory), file size and process count (setrlimit);
- keeps the kernel off the network: ``unshare --net`` gives it an empty network
  namespace (the kernel talks to nbgrader over Unix sockets, ``transport="ipc"``);
- drops to the unprivileged user ``nobody``, so it cannot write the gradebook, the
  course directory or the instructor's files, nor read files that are not world-readable;
- sets HOME and the working directory to the submission's own folder (writable).

What it does not give (see README, "Grading isolation"): files readable by everyone
stay readable, and code in the kernel can still subvert the checks in the same process.
"""

from __future__ import annotations

import json
import os
import pwd
import resource
import shutil
import sys
from pathlib import Path

KERNEL_NAME = "course-sandbox"
SANDBOX_USER = "nobody"
CPU_SECONDS = 120
MEMORY_BYTES = 2 * 1024**3
FILE_BYTES = 64 * 1024**2
PROCESSES = 256


def install_kernelspec(jupyter_data_dir: Path) -> None:
    """Write the sandbox kernelspec into ``jupyter_data_dir/kernels``."""
    argv = [sys.executable, "-m", "autograder.sandbox", "{connection_file}"]
    if os.geteuid() == 0 and shutil.which("unshare"):
        argv = [shutil.which("unshare"), "--net", *argv]
    folder = jupyter_data_dir / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"argv": argv, "display_name": "Python 3 (course sandbox)", "language": "python"}
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))


def limit_resources() -> None:
    for limit, value in (
        (resource.RLIMIT_CPU, CPU_SECONDS),
        (resource.RLIMIT_AS, MEMORY_BYTES),
        (resource.RLIMIT_FSIZE, FILE_BYTES),
        (resource.RLIMIT_NPROC, PROCESSES),
    ):
        resource.setrlimit(limit, (value, value))


def drop_privileges(home: str, connection_file: str) -> str:
    """Become ``nobody`` (only possible, and only needed, when started as root).

    Returns the connection file the kernel should read: jupyter_client writes it
    readable by root only, so ``nobody`` gets a private copy of its own."""
    if os.geteuid() != 0:
        return connection_file
    user = pwd.getpwnam(SANDBOX_USER)
    copy = Path(connection_file).with_name(Path(connection_file).stem + "-sandbox.json")
    copy.write_bytes(Path(connection_file).read_bytes())
    os.chown(copy, user.pw_uid, user.pw_gid)
    copy.chmod(0o600)
    os.setgroups([])
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)
    os.environ.update(HOME=home, USER=SANDBOX_USER, LOGNAME=SANDBOX_USER)
    return str(copy)


def main(connection_file: str) -> None:
    workdir = os.getcwd()
    limit_resources()
    connection_file = drop_privileges(workdir, connection_file)
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file])


if __name__ == "__main__":
    main(sys.argv[1])
