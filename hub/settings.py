"""What ``course.py hub`` decided, for the hub's configuration file to read.

``course.py hub`` (as root) makes the accounts and folders, then writes these settings to
``<state>/hub/settings.json`` and starts JupyterHub with ``hub/jupyterhub_config.py``, which
reads them from the file named by ``$ASYNCIO_COURSE_HUB_SETTINGS``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

SETTINGS_ENV = "ASYNCIO_COURSE_HUB_SETTINGS"
ROLE_ENV = "ASYNCIO_COURSE_HUB_ROLE"  # instructor, learner or grader: what a single-user server shows
SERVICE = "asyncio-course"  # the shared grading server (formgrader), named after the course as nbgrader asks
FORMGRADE_GROUP = f"formgrade-{SERVICE}"
CONTINUOUS_GRADING = "continuous-grading"  # the hub service grading each submission as it arrives


@dataclass(frozen=True)
class Settings:
    repo: str  # the repository (course_home, learner_screen, notebooks)
    python: str  # the course environment's python
    state: str  # the state folder (hub/course_dir.py)
    ip: str
    port: int
    hub_port: int
    proxy_api_port: int
    grader_port: int
    proxy_command: str
    instructors: list[str]
    learners: list[str]
    grader: str
    ssl_cert: str = ""
    ssl_key: str = ""
    cull_timeout: int = 3600
    cull_every: int = 300
    grade_continuously: bool = False  # the hub service continuous-grading (hub/continuous_grading.py)

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_cert else "http"
        return f"{scheme}://{self.ip}:{self.port}"


def write_settings(settings: Settings, path: Path) -> None:
    path.write_text(json.dumps(asdict(settings), indent=1), encoding="utf-8")
    path.chmod(0o600)


def read_settings(path: Path | None = None) -> Settings:
    """The settings in ``path``, by default the file ``$ASYNCIO_COURSE_HUB_SETTINGS`` names."""
    path = path or Path(os.environ[SETTINGS_ENV])
    return Settings(**json.loads(path.read_text(encoding="utf-8")))
