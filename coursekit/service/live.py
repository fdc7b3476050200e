"""The service served for real by uvicorn on 127.0.0.1, for live demos on the real clock.

    with serve_live(Service(seed=7)) as url:       # http://127.0.0.1:<free port>
        async with httpx.AsyncClient(base_url=url) as client: ...

The server runs in a thread of the calling process and always stops when the block
ends: normally, on an error, or when the cell is interrupted (KeyboardInterrupt). Its
clock starts when it starts; its request log is ``service.log`` (and ``GET /log``).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

START_LIMIT = 10.0  # real seconds to wait for the server to listen before giving up
STOP_LIMIT = 2  # real seconds open requests get to finish when the block ends


@contextmanager
def serve_live(app: ASGIApp, *, port: int = 0) -> Iterator[str]:
    """Serve ``app`` (a ``Service``, or any ASGI app, e.g. a middleware around one) on
    127.0.0.1:``port`` (0: a free port) until the block ends; yield its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(
        app, log_level="warning", lifespan="on", access_log=False, timeout_graceful_shutdown=STOP_LIMIT
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="course-service", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_LIMIT
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)  # uvicorn offers no event to wait on, only the flag
        if not server.started:
            raise RuntimeError("the course's HTTP service did not start (see the log above)")
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=START_LIMIT)
        sock.close()
