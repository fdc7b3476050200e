#!/usr/bin/env python3
"""The course's two commands; needs only Python 3.11+ to start.

    python3 course.py start   # set up (first time), then open the course in JupyterLab
    python3 course.py start --instructor   # JupyterLab in the instructor's course directory
    python3 course.py test    # set up (first time), then run the whole test suite
    python3 course.py test --quick   # the fast subset, for the edit loop
    python3 course.py hub ROSTER     # as root: a JupyterHub for a class on this machine (hub/)

Setting up creates a virtual environment in .venv and installs the pinned
dependencies from pyproject.toml; it is redone only when pyproject.toml changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".installed-from"
CHROMIUM = Path("/usr/bin/chromium")  # Debian's; the browser test (tests/test_browser_e2e.py) drives it
BWRAP = Path("/usr/bin/bwrap")  # Debian's bubblewrap: the grading sandbox (autograder/sandbox.py)
SETFACL = Path("/usr/bin/setfacl")  # Debian's acl: the hub opens closed folders to the class (hub/access.py)
RUNS_NO_GRADING = "ASYNCIO_COURSE_TESTS_RUN_NO_GRADING"  # set for the run of the suite that grades nothing
RUNS_A_HUB = "ASYNCIO_COURSE_TESTS_RUN_A_HUB"  # set for the run of the suite that starts class hubs
PROXY_DIR = ROOT / "hub" / "proxy"  # the hub's configurable-http-proxy (npm), in node_modules/ there (not in git)


def ensure_environment() -> None:
    """Create .venv and install the course into it, unless it is already up to date."""
    if sys.version_info < (3, 11):  # noqa: UP036  (run by any python3, before the course's venv exists)
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
    # setuptools' notice about editable installs is for package authors, not for learners.
    quiet = {**os.environ, "PYTHONWARNINGS": "ignore:Editable installation"}
    subprocess.run([*pip, "-e", str(ROOT)], check=True, env=quiet)
    STAMP.write_text(wanted)


def venv_tool(name: str) -> str:
    return str(VENV / "bin" / name)


def start(extra: list[str]) -> int:
    """Open JupyterLab on 127.0.0.1 in the learner's workspace (the released chapters), on the
    course home page, with a learner's tools (learner_screen/).

    The chapters are published to nbgrader's exchange first (instructor/exchange/), where
    JupyterLab's Assignments tab fetches them and submissions go. ``--instructor`` opens
    JupyterLab in the instructor's course directory (instructor/) instead, with nbgrader's
    formgrader and Create Assignment."""
    ensure_environment()
    ensure_bubblewrap()
    instructor = "--instructor" in extra
    extra = [arg for arg in extra if arg != "--instructor"]
    subprocess.run(
        [str(VENV_PYTHON), "-m", "autograder", "publish"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL
    )  # progress and errors (stderr) reach the terminal
    if instructor:
        root, settings = str(ROOT / "instructor"), []
    else:
        root = subprocess.run(
            [str(VENV_PYTHON), "-m", "autograder", "workspace"],
            cwd=ROOT,
            check=True,
            stdout=subprocess.PIPE,
            text=True,  # progress and errors (stderr) reach the terminal
        ).stdout.strip()
        settings = [f"--config={ROOT / 'learner_screen' / 'jupyter_server_config.py'}"]
    command = [venv_tool("jupyter"), "lab", "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={root}", *settings]
    command += extra
    if os.geteuid() == 0:  # containers often run as root; JupyterLab refuses that unless told
        command.insert(2, "--ServerApp.allow_root=True")
    # Kernels inherit the workspace's place: Check my work saves the learner's progress there.
    env = {**os.environ, "ASYNCIO_COURSE_WORKSPACE": root} if not instructor else dict(os.environ)
    who = "the instructor's course directory" if instructor else "your workspace"
    print(f"Starting JupyterLab in {who}, {root} (Ctrl+C to stop) ...", flush=True)
    os.chdir(root)  # nbgrader's extensions read nbgrader_config.py from the working folder
    os.execve(command[0], command, env)


def runs_browser_test(extra: list[str]) -> bool:
    """Would ``pytest EXTRA`` collect tests/test_browser_e2e.py?

    Yes unless the arguments name paths (files, folders, node ids) and none of
    them is that file or a folder holding it; other arguments (options, their
    values) do not count."""
    paths = [ROOT / arg.split("::")[0] for arg in extra if not arg.startswith("-")]
    paths = [path.resolve() for path in paths if path.exists()]
    browser_test = (ROOT / "tests" / "test_browser_e2e.py").resolve()
    return not paths or any(path == browser_test or path in browser_test.parents for path in paths)


def ensure_apt_package(binary: Path, package: str, purpose: str) -> bool:
    """Install Debian's ``package`` if ``binary`` is missing and we can (root on Debian); is ``binary`` there?

    ``purpose`` says in the messages what goes without it."""
    if binary.exists():
        return True
    if os.geteuid() != 0 or not Path("/etc/debian_version").exists() or not shutil.which("apt-get"):
        print(
            f"{binary} is missing and can only be installed automatically as root on Debian "
            f"(apt-get install {package}): {purpose}.",
            flush=True,
        )
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", package]):
        print(f"Installing {package}: {' '.join(command)} ...", flush=True)
        result = subprocess.run(
            command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        if result.returncode != 0:
            tail = "\n".join(result.stdout.strip().splitlines()[-15:])
            print(
                f"`{' '.join(command)}` failed (exit {result.returncode}): {purpose}. Its last lines:\n{tail}",
                flush=True,
            )
            return False
    print(f"Installed {binary}." if binary.exists() else f"apt-get installed {package}, but {binary} is still missing.")
    return binary.exists()


def ensure_chromium() -> None:
    """Debian's Chromium for the browser test; without it that test skips (and fails under CI=true)."""
    ensure_apt_package(CHROMIUM, "chromium", "the browser test will skip (or fail under CI=true)")


def ensure_bubblewrap() -> None:
    """Debian's bubblewrap, the sandbox every graded submission runs in (autograder/sandbox.py).

    Without it grading refuses (unless --unsafe) and the grading tests fail, saying why."""
    ensure_apt_package(BWRAP, "bubblewrap", "grading refuses to run learner code without its sandbox")


def ensure_acl() -> None:
    """Debian's acl (setfacl), with which the hub lets the class's accounts pass through a closed
    folder on the way to the course, e.g. /root (hub/access.py); without it such a hub refuses."""
    ensure_apt_package(SETFACL, "acl", "the hub cannot open a closed folder on the way to the course to the class")


def test(extra: list[str]) -> int:
    """Run every test: pytest over tests/ and the chapter notebooks (nbval).

    ``--quick`` leaves out the tests marked slow (nbgrader runs, the grading sandbox,
    the browser, Dask) and those that start a class hub: the edit loop's subset. CI runs everything,
    in three runs at once (:func:`in_parts`); with paths, ``-k`` or ``-m`` it is one pytest run of
    what they select."""
    ensure_environment()
    pytest = [str(VENV_PYTHON), "-m", "pytest"]
    if "--quick" in extra:
        return subprocess.run(
            [*pytest, *[arg for arg in extra if arg != "--quick"], "-m", "not slow and not hub"], cwd=ROOT
        ).returncode
    ensure_bubblewrap()
    ensure_acl()  # tests/test_hub.py
    if runs_browser_test(extra):
        ensure_chromium()
    if any(arg in ("-k", "-m") or not arg.startswith("-") for arg in extra):
        return subprocess.run([*pytest, *extra], cwd=ROOT).returncode
    return in_parts(pytest, extra)


PARTS: tuple[
    tuple[str, str, dict[str, str]], ...
] = (  # each of the suite's pytest runs: what it selects, what it is told
    ("the tests that run grading", "slow and not hub", {}),
    ("the tests that run no grading", "not slow and not hub", {RUNS_NO_GRADING: "1"}),
    ("the tests that start a class hub", "hub", {RUNS_A_HUB: "1"}),
)


def in_parts(pytest: list[str], extra: list[str]) -> int:
    """The suite as three pytest runs at once (:data:`PARTS`): the tests that run grading (marked
    slow), whose progress shows; the others, and the tests that start a class hub (marked hub, most
    of whose time is waiting for servers), whose output follows when all have ended.

    Each run checks what it may. The grading run, that grading leaves nothing of its own (this
    account's) behind. The run with :data:`RUNS_NO_GRADING` set, that its tests start no grading
    (it would see the grading run's work in progress). The hub run, with :data:`RUNS_A_HUB` set,
    grades as the hub's own accounts; its tests check that the hub's accounts keep nothing running."""
    (grading_name, grading_marks, _), *others = PARTS
    with contextlib.ExitStack() as stack:
        started = []
        for name, marks, env in others:
            output = stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))
            process = subprocess.Popen(
                [*pytest, "-m", marks, *extra],
                cwd=ROOT,
                stdout=output,
                stderr=subprocess.STDOUT,
                env={**os.environ, **env},
            )
            stack.callback(process.kill)
            started.append((name, process, output))
        print(f"{len(PARTS)} pytest runs at once: {grading_name} here, the others after them.", flush=True)
        codes = {grading_name: subprocess.run([*pytest, "-m", grading_marks, *extra], cwd=ROOT).returncode}
        for name, process, output in started:
            codes[name] = process.wait()
            output.seek(0)
            print(f"\n---- {name} ----", flush=True)
            sys.stdout.write(output.read())
    print("\n" + "; ".join(f"{name}: exit {code}" for name, code in codes.items()), flush=True)
    return next((code for code in codes.values() if code), 0)


def ensure_proxy() -> bool:
    """configurable-http-proxy, JupyterHub's proxy, from npm as hub/proxy/package-lock.json pins it
    (``npm ci``, again only when the lock file changes); is it there?"""
    stamp = PROXY_DIR / "node_modules" / ".installed-from"
    wanted = hashlib.sha256((PROXY_DIR / "package-lock.json").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text().strip() == wanted:
        return True
    if not shutil.which("npm"):
        ensure_apt_package(Path("/usr/bin/npm"), "npm", "the hub has no proxy without it")
    print("Installing configurable-http-proxy (npm ci in hub/proxy/) ...", flush=True)
    result = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PROXY_DIR, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0:
        print(f"npm ci failed (exit {result.returncode}) in {PROXY_DIR}: the hub has no proxy.", flush=True)
        return False
    stamp.write_text(wanted)
    return True


def hub(extra: list[str]) -> int:
    """Run a JupyterHub for a class on this machine (``hub/``, as root): accounts from the roster,
    sign-up limited to it, each person's server as their own system user, the shared grading
    server, nbgrader's exchange between them. ``python3 course.py hub --help`` lists the options."""
    ensure_environment()
    ensure_bubblewrap()
    ensure_acl()
    if not ensure_proxy():
        return 1
    command = [str(VENV_PYTHON), "-m", "hub", *extra]
    os.chdir(ROOT)
    os.execv(command[0], command)


def main(argv: list[str]) -> int:
    commands = {"start": start, "test": test, "hub": hub}
    if not argv or argv[0] not in commands:
        print(__doc__.strip())
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
