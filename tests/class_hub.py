"""A throwaway class hub for a test or a benchmark: ``course.py hub`` started, and everything taken away after.

:func:`class_hub` writes the roster into a state folder of its own (in ``/tmp``, 0755), starts
``python3 course.py hub`` for it with system accounts under a random prefix, on 127.0.0.1 and a
free port, with the options given, and yields once the hub answers. At the end, whatever
happened: the hub is stopped (it stops its servers and services), the accounts deleted and the
folder removed; then it fails if anything still ran as the class's accounts or an account could
not be deleted. Root only.
"""

from __future__ import annotations

import os
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hub.accounts import class_accounts, delete_accounts
from hub.roster import parse_roster
from tests.test_hub import Hub, free_port, left_running, stop, wait_until_up

ROOT = Path(__file__).resolve().parent.parent


def skip_unless_a_hub_can_run() -> None:
    """Skip the test unless this is root (the hub makes accounts) and npm is there (the hub's proxy)."""
    if os.geteuid() != 0:
        pytest.skip("the hub runs as root (it makes system accounts)")
    if not shutil.which("npm"):
        pytest.skip("no npm for the hub's proxy")


@contextmanager
def class_hub(
    roster: str,
    *options: str,
    prefix_letter: str = "t",
    start_seconds: float = 120,
    keep_log: Path | None = None,
    trusted: ssl.SSLContext | None = None,
) -> Iterator[Hub]:
    """The hub of a throwaway class with ``roster`` (TOML text) and ``course.py hub`` ``options``;
    ``keep_log``: where to copy the hub's output (its services' included) before the folder goes;
    ``trusted``: the certificates to trust when the options make it serve https (``--ssl-cert``)."""
    prefix = prefix_letter + secrets.token_hex(3)
    folder = Path(tempfile.mkdtemp(prefix="course-hub-"))
    folder.chmod(0o755)
    (folder / "roster.toml").write_text(roster, encoding="utf-8")
    accounts = class_accounts(parse_roster(roster, "roster.toml"), prefix)
    port = free_port()
    command = [sys.executable, str(ROOT / "course.py"), "hub", str(folder / "roster.toml"), "--prefix", prefix]
    command += ["--state", str(folder / "state"), "--port", str(port), *options]
    log = folder / "hub.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    scheme = "https" if "--ssl-cert" in options else "http"
    running = Hub(f"{scheme}://127.0.0.1:{port}", accounts, folder / "state", process, log)
    try:
        wait_until_up(running, time.monotonic() + start_seconds, trusted)
        yield running
    finally:
        stop(running)
        if keep_log:
            shutil.copyfile(log, keep_log)
        leftovers = left_running(running.accounts)
        problems = delete_accounts(running.accounts)
        shutil.rmtree(folder, ignore_errors=True)
        assert not leftovers, f"still running after the hub stopped: {leftovers}"
        assert not problems, f"accounts not deleted: {problems}"
