"""The learner's JupyterLab, as ``python3 course.py start`` opens it (``--config`` names this file).

A learner's screen shows a learner's tools: the course home page opens first, nbgrader's
Assignments tab and Validate stay, and the instructor's tools (formgrader, Create Assignment,
Course List) are off, in the server and in the page. The page's settings (``lab_settings/``):
the disabled plugins (``page_config.json``) and the defaults a learner starts with
(``overrides.json``: no news pop-up, no update check). The language-server extension is off
too: the course ships no language server, so it would only log that it found none.
"""

import os

c = get_config()  # type: ignore[name-defined]  # noqa: F821 (defined by traitlets when it loads this file)

here = os.path.dirname(os.path.abspath(__file__))
c.ServerApp.jpserver_extensions = {
    "course_home": True,
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.course_list": False,
    "jupyter_lsp": False,
}
c.LabApp.app_settings_dir = os.path.join(here, "lab_settings")
c.LabApp.default_url = "/course"  # the course home page (course_home)
