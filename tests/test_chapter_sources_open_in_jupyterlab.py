"""An instructor opens a chapter's text source as a notebook in the course's JupyterLab (jupytext).

A real Jupyter server (the one JupyterLab runs on) is started on 127.0.0.1 at the
repository's root, with the course environment's configuration, and asked for
``chapters/ch01_producer_consumer.py`` as a notebook, as JupyterLab's
"Open With → Notebook" does. Its cells, markers included, are the source's.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.chapter_source import chapters, read_cells

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "chapter-source-test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    home = tmp_path_factory.mktemp("jupyter-home")
    command = [sys.executable, "-m", "jupyter", "server", "--no-browser", f"--port={port}"]
    command += ["--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={ROOT}"]
    command += ["--ServerApp.allow_root=True"]
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(home), "JUPYTER_RUNTIME_DIR": str(home / "run")}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # the server starts in a few seconds; give up after 30
            if process.poll() is not None:
                pytest.fail(f"jupyter server exited: {process.stderr.read() if process.stderr else ''}")
            try:
                urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=1)
                break
            except OSError:
                time.sleep(0.1)  # waiting for a real server to listen, not timing the code under test
        else:
            pytest.fail("jupyter server did not answer within 30 s")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_chapter_source_opens_as_a_notebook(server: str) -> None:
    chapter = next(chapter for chapter in chapters() if chapter.assignment.startswith("ch01"))
    path = chapter.source.relative_to(ROOT).as_posix()
    with urllib.request.urlopen(f"{server}/api/contents/{path}?type=notebook&content=1&token={TOKEN}") as reply:
        model = json.load(reply)
    assert model["type"] == "notebook"
    served = [(cell["cell_type"], cell["source"], cell["metadata"]) for cell in model["content"]["cells"]]
    expected = [(cell.cell_type, cell.source, dict(cell.metadata)) for cell in read_cells(chapter)]
    assert [(kind, source) for kind, source, _ in served] == [(kind, source) for kind, source, _ in expected]
    assert any(meta.get("solution") == "ch01-ex1-consumer" for _, _, meta in served), "the markers should show"
