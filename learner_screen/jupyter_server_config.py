"""The learner's JupyterLab, as ``python3 course.py start`` opens it (``--config`` names this file).

A learner's screen shows a learner's tools: the course home page opens first, nbgrader's
Assignments tab and Validate stay, and the instructor's tools (formgrader, Create Assignment,
Course List) are off, in the server and in the page. The page's settings (``lab_settings/``):
the disabled plugins (``page_config.json``) and the defaults a learner starts with
(``overrides.json``: no news pop-up, no update check). Nothing
in the start-up log asks the learner to act on what they cannot change.
"""

import os

c = get_config()  # type: ignore[name-defined]  # noqa: F821 (defined by traitlets when it loads this file)

here = os.path.dirname(os.path.abspath(__file__))
c.ServerApp.jpserver_extensions = {
    "course_home": True,
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.course_list": False,
}
# The course ships no language server: looking for the usual ones only logs that each is missing.
c.LanguageServerManager.autodetect = False
c.LabApp.app_settings_dir = os.path.join(here, "lab_settings")
# One kernel: the course's own (this environment's python3), whatever other kernels the machine has.
c.KernelSpecManager.allowed_kernelspecs = {"python3"}
# Kernels talk to the server over local sockets only the learner can open (IPC), not TCP ports
# any local account could reach; ipykernel warns about the latter at every start.
c.KernelManager.transport = "ipc"
# Kernel websockets: a ping every 30 s, each to be answered within 30 s (ms). jupyter_server's
# default timeout is three intervals, which tornado refuses with a warning at every connection.
c.ServerApp.tornado_settings = {"ws_ping_interval": 30_000, "ws_ping_timeout": 30_000}
c.LabApp.default_url = "/course"  # the course home page (course_home)
