#!/usr/bin/env python3
"""The course's two commands; needs only Python 3.11+ to start.

    python3 course.py start   # set up (first time), then open the course in JupyterLab
    python3 course.py test    # set up (first time), then run the whole test suite

Setting up creates a virtual environment in .venv and installs the pinned
dependencies from pyproject.toml; it is redone only when pyproject.toml changes.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".installed-from"


def ensure_environment() -> None:
    """Create .venv and install the course into it, unless it is already up to date."""
    if sys.version_info < (3, 11):
        sys.exit(f"The course needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if VENV_PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not VENV_PYTHON.exists():
        print(f"Creating the course environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing the course's dependencies (first run only) ...", flush=True)
    pip = [str(VENV_PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", str(ROOT)], check=True)
    STAMP.write_text(wanted)


def venv_tool(name: str) -> str:
    return str(VENV / "bin" / name)


def start(extra: list[str]) -> int:
    """Open JupyterLab on 127.0.0.1 in the learner's workspace (the released chapters)."""
    ensure_environment()
    workspace = subprocess.run(
        [str(VENV_PYTHON), "-m", "autograder", "workspace"], cwd=ROOT, check=True,
        stdout=subprocess.PIPE, text=True,  # progress and errors (stderr) reach the terminal
    ).stdout.strip()
    command = [venv_tool("jupyter"), "lab", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.root_dir={workspace}", *extra]
    if os.geteuid() == 0:  # containers often run as root; JupyterLab refuses that unless told
        command.insert(2, "--ServerApp.allow_root=True")
    print(f"Starting JupyterLab in {workspace} (Ctrl+C to stop) ...", flush=True)
    os.execv(command[0], command)


def test(extra: list[str]) -> int:
    """Run every test: pytest over tests/ and the chapter notebooks (nbval)."""
    ensure_environment()
    return subprocess.run([str(VENV_PYTHON), "-m", "pytest", *extra], cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    commands = {"start": start, "test": test}
    if not argv or argv[0] not in commands:
        print(__doc__.strip())
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
