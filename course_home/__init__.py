"""The course home page: a Jupyter server extension serving ``<base_url>/course``.

It lists every chapter of ``course.toml`` with what it teaches, its exercises and its
estimated time, and the learner's progress: the last *Check my work*, whether the chapter
was submitted, and whether feedback is there to read or waiting to be fetched
(:mod:`course_home.progress`). ``course.py start`` enables it and opens it first; it reads
the server's root folder, the learner's workspace, and nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

HOME_PATH = "course"


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "course_home"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from jupyter_server.utils import url_path_join

    from course_home.handler import HomeHandler

    route = url_path_join(serverapp.base_url, HOME_PATH)
    serverapp.web_app.add_handlers(".*$", [(route, HomeHandler, {"workspace": Path(serverapp.root_dir)})])
    serverapp.log.info("The course home page is at %s", route)
