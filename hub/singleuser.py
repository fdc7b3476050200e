"""A single-user server of the class's hub, run as that person's system user.

The hub starts ``python -m hub.singleuser`` (the course environment's python) with
``$ASYNCIO_COURSE_HUB_ROLE`` set; this prepares the person's folder and becomes
``jupyterhub-singleuser``:

- **learner**: the workspace ``~/workspace`` (0700) gets the published chapters it lacks from the
  exchange (never overwriting the learner's work) and the ``nbgrader_config.py`` that points the
  Assignments tab at the exchange, as ``course.py start`` does (submitting with
  :class:`hub.private_submit.PrivateSubmit`); the learner's screen
  (``learner_screen/``) opens on the course home page.
- **instructor**: JupyterLab in their home, with nbgrader's course list (it links to the shared
  grading server) and Assignments tab; no formgrader of their own.
- **grader** (the shared grading server, a hub service): JupyterLab in the course directory with
  formgrader and Create Assignment; its terminal runs ``python -m autograder grade-all``.

Files are made private (umask 077) for learners and group-shared (umask 007) for the others.
Every role's terminal is a plain bash, not jupyter_server's default login shell: Debian's
``/etc/profile`` would put the system's ``PATH`` back, and ``python``, ``nbgrader`` in that
terminal would not be the course environment's (``python: command not found``).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from autograder.chapters import REPO_ROOT, select_chapters
from autograder.exchange import LEARNER_CONFIG, learner_config, outbound_dir
from autograder.workspace import WORKSPACE_ENV
from hub.settings import ROLE_ENV

LEARNER_SCREEN = REPO_ROOT / "learner_screen" / "jupyter_server_config.py"
TERMINAL = '--ServerApp.terminado_settings=shell_command=["/bin/bash"]'  # not a login shell (above)
PRIVATE_SUBMIT = """\
# On the class's hub (hub/singleuser.py): a submission is readable by you and the grader only.
c.ExchangeFactory.submit = "hub.private_submit.PrivateSubmit"
"""


def fill_workspace(workspace: Path) -> None:
    """Copy every published file the learner does not have yet into ``workspace/<chapter>/``."""
    for chapter in select_chapters([]):
        published = outbound_dir(chapter)
        if not published.is_dir():
            continue
        for source in sorted(path for path in published.rglob("*") if path.is_file()):
            target = workspace / chapter.assignment / source.relative_to(published)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)


def server_arguments(role: str, home: Path) -> tuple[Path, list[str]]:
    """The server's root folder and jupyterhub-singleuser's arguments for ``role``; prepares the folder."""
    if role == "learner":
        os.umask(0o077)
        workspace = home / "workspace"
        workspace.mkdir(mode=0o700, exist_ok=True)
        fill_workspace(workspace)
        (workspace / LEARNER_CONFIG).write_text(learner_config(workspace) + PRIVATE_SUBMIT, encoding="utf-8")
        os.environ[WORKSPACE_ENV] = str(workspace)  # Check my work saves the learner's progress there
        return workspace, [f"--config={LEARNER_SCREEN}"]
    os.umask(0o007)
    if role == "grader":
        return Path.cwd(), []
    return home, ["--ServerApp.jpserver_extensions=nbgrader.server_extensions.formgrader=False"]


def main(argv: list[str]) -> None:
    role = os.environ.get(ROLE_ENV, "learner")
    if role not in ("learner", "instructor", "grader"):
        sys.exit(f"${ROLE_ENV}={role!r}: learner, instructor or grader")
    root, arguments = server_arguments(role, Path.home())
    os.chdir(root)  # nbgrader's extensions read nbgrader_config.py from the working folder
    command = [str(Path(sys.executable).parent / "jupyterhub-singleuser"), f"--ServerApp.root_dir={root}"]
    command += [*arguments, TERMINAL, *argv]
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
