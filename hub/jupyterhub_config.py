"""JupyterHub's configuration for a class on one server; ``course.py hub`` starts JupyterHub with it.

It reads the settings ``course.py hub`` wrote (:mod:`hub.settings`): the roster's accounts, the
ports, the state folder. The hub runs as root and starts each person's server as their system
user (LocalProcessSpawner), in the course environment, through ``hub/singleuser.py``. The shared
grading server (formgrader, the grading command) is a hub service run as the grader account, open
to the instructors' group, as in nbgrader's "one class, multiple graders" demo.
"""

import os
import sys

from jupyterhub.spawner import Spawner

from hub.settings import CONTINUOUS_GRADING, FORMGRADE_GROUP, ROLE_ENV, SERVICE, read_settings

c = get_config()  # type: ignore[name-defined]  # noqa: F821 (defined by traitlets when it loads this file)
settings = read_settings()
state_hub = os.path.join(settings.state, "hub")
course_dir = os.path.join(settings.state, "course")
exchange = os.path.join(settings.state, "exchange")

# Where the hub listens (127.0.0.1 by default); with a certificate and key, over TLS (the proxy
# terminates it). The hub's own API and the proxy's API stay on 127.0.0.1.
c.JupyterHub.bind_url = settings.url
if settings.ssl_cert:
    c.JupyterHub.ssl_cert = settings.ssl_cert
    c.JupyterHub.ssl_key = settings.ssl_key
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{settings.hub_port}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.proxy_api_port}"
c.ConfigurableHTTPProxy.command = [settings.proxy_command]
c.ConfigurableHTTPProxy.pid_file = os.path.join(state_hub, "proxy.pid")
c.ConfigurableHTTPProxy.debug = False

# The hub's state: its database, cookie secret and pid file, in the state folder (not in git).
c.JupyterHub.db_url = "sqlite:///" + os.path.join(state_hub, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(state_hub, "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(state_hub, "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every server it started
c.JupyterHub.cleanup_proxy = True

# Who may come in: the roster. Sign-up on the hub's page, names on the roster only.
c.JupyterHub.authenticator_class = "hub.auth.RosterAuthenticator"
c.Authenticator.allowed_users = set(settings.instructors + settings.learners)
# Instructors are not the hub's admins: an admin may open any learner's server, and so could hand in
# as that learner. Their role (below) lists people and starts or stops servers, never opens one.
c.Authenticator.admin_users = set()
c.NativeAuthenticator.open_signup = True  # roster names only (RosterAuthenticator): no approval step
c.NativeAuthenticator.minimum_password_length = 10
c.NativeAuthenticator.check_common_password = True
c.NativeAuthenticator.allowed_failed_logins = 5
c.NativeAuthenticator.seconds_before_next_try = 300

# Each person's server: their system user, the course environment, their role's screen.
c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.cmd = [settings.python, "-m", "hub.singleuser"]
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.Spawner.env_keep = ["LANG", "LC_ALL"]
common_env = {
    "PATH": os.pathsep.join([os.path.dirname(settings.python), "/usr/local/bin", "/usr/bin", "/bin"]),
    "ASYNCIO_COURSE_EXCHANGE": exchange,
    "PYTHONPATH": settings.repo,
}
grader_env = {  # what the grader account's services grade with: the shared course, owners only
    **common_env,
    "ASYNCIO_COURSE_DIR": course_dir,
    "ASYNCIO_COURSE_OWNERS_ONLY": "1",
    "TMPDIR": os.path.join(settings.state, "scratch"),  # the sandboxes' and Dask's scratch, not /tmp
}


def pre_spawn_hook(spawner: Spawner) -> None:
    """Tell the server its role: the learner's screen, or an instructor's JupyterLab."""
    role = "instructor" if spawner.user.name in settings.instructors else "learner"
    spawner.environment.update(common_env)
    spawner.environment[ROLE_ENV] = role
    if role == "instructor":  # reads the shared course directory (the instructors' group's)
        spawner.environment["ASYNCIO_COURSE_DIR"] = course_dir
    spawner.default_url = "/course" if role == "learner" else "/lab"


c.Spawner.pre_spawn_hook = pre_spawn_hook

# The instructors' group may use the shared grading server; every server may list services
# (nbgrader's course list finds the grading server so).
c.JupyterHub.load_groups = {FORMGRADE_GROUP: {"users": settings.instructors}}
c.JupyterHub.load_roles = [
    {
        "name": "instructor",
        "users": settings.instructors,
        "scopes": ["list:users", "read:users", "read:servers", "servers"],
    },
    {
        "name": FORMGRADE_GROUP,
        "groups": [FORMGRADE_GROUP],
        "scopes": [f"access:services!service={SERVICE}", "list:services", f"read:services!service={SERVICE}"],
    },
    {"name": "server", "scopes": ["inherit"]},
    {
        "name": "idle-culler",
        "services": ["idle-culler"],
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    },
]
c.JupyterHub.services = [
    {
        # The shared grading server: JupyterLab in the course directory as the grader account, with
        # formgrader, Create Assignment and a terminal for `python -m autograder grade-all`.
        "name": SERVICE,
        "url": f"http://127.0.0.1:{settings.grader_port}",
        "command": [settings.python, "-m", "hub.singleuser"],
        "user": settings.grader,
        "cwd": course_dir,
        "oauth_no_confirm": True,
        "environment": {**grader_env, ROLE_ENV: "grader", "JUPYTERHUB_DEFAULT_URL": "/formgrader"},
    },
    {
        # Servers idle for cull_timeout seconds are stopped (their files stay).
        "name": "idle-culler",
        "command": [
            sys.executable,
            "-m",
            "jupyterhub_idle_culler",
            f"--timeout={settings.cull_timeout}",
            f"--cull-every={settings.cull_every}",
        ],
    },
]
if settings.grade_continuously:
    # `course.py hub --grade-continuously`: each submission is graded as it arrives, and its feedback
    # released to its learner, by a process run as the grader account (no web page, no API access).
    c.JupyterHub.services.append(
        {
            "name": CONTINUOUS_GRADING,
            "command": [settings.python, "-m", "hub.continuous_grading"],
            "user": settings.grader,
            "cwd": course_dir,
            "environment": grader_env,
        }
    )
