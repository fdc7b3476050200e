"""``python3 course.py hub ROSTER``: a JupyterHub for a class on this machine (run as root).

Makes the roster's system accounts (:mod:`hub.accounts`) and the state folder with the shared
course directory and the exchange (:mod:`hub.course_dir`), opens the folders on the way to the
course to the class's groups, traverse only, while it runs (:mod:`hub.access`), publishes the
chapters to the exchange as the grader account, then runs JupyterHub (``hub/jupyterhub_config.py``)
until Ctrl+C or SIGTERM; stopping it stops the proxy and every server it started. Running it again with the
same roster changes nothing; a name added to the roster gets its account at the next start.
"""

from __future__ import annotations

import argparse
import grp
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from autograder.chapters import COURSE_DIR_ENV, REPO_ROOT, select_chapters
from autograder.exchange import EXCHANGE_ENV
from hub.access import Unreachable, account_groups, interpreter_problem, needed_paths, reachable
from hub.accounts import Accounts, class_accounts, ensure_accounts, gid, ids
from hub.course_dir import StateFolder, ensure_state
from hub.roster import RosterError, read_roster
from hub.settings import SETTINGS_ENV, Settings, write_settings

DEFAULT_STATE = REPO_ROOT / ".hub"
PROXY = REPO_ROOT / "hub" / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
CONFIG = REPO_ROOT / "hub" / "jupyterhub_config.py"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 course.py hub", description=__doc__.split("\n\n")[0])
    parser.add_argument("roster", type=Path, help="the class roster, a TOML file (hub/roster.example.toml)")
    parser.add_argument("--ip", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument("--ssl-cert", type=Path, help="TLS certificate (PEM), with --ssl-key: serve https")
    parser.add_argument("--ssl-key", type=Path, help="the certificate's private key (PEM)")
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE, help="the state folder (default .hub/)")
    parser.add_argument("--prefix", default="", help="prefix of every system account's name (e.g. for tests)")
    parser.add_argument("--chapters", nargs="*", default=[], help="chapters to publish (default: all)")
    parser.add_argument("--cull-idle", type=int, default=3600, help="stop servers idle this many seconds")
    parser.add_argument(
        "--grade-continuously",
        action="store_true",
        help="grade each submission as it arrives and release its feedback (hub/continuous_grading.py)",
    )
    args = parser.parse_args(argv)
    if bool(args.ssl_cert) != bool(args.ssl_key):
        parser.error("--ssl-cert and --ssl-key go together")
    if args.ip not in ("127.0.0.1", "localhost") and not args.ssl_cert:
        parser.error(f"--ip {args.ip}: a public address needs TLS (--ssl-cert and --ssl-key)")
    return args


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def publish(state: StateFolder, accounts: Accounts, chapters: list[str]) -> None:
    """``python -m autograder publish`` as the grader account, in the shared course directory."""
    uid, group = ids(accounts.grader)
    home = Path(os.path.expanduser(f"~{accounts.grader}"))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        COURSE_DIR_ENV: str(state.course),
        EXCHANGE_ENV: str(state.exchange),
    }
    command = [sys.executable, "-m", "autograder", "publish", *chapters]
    extra_groups = [grp.getgrnam(accounts.instructors_group).gr_gid]
    subprocess.run(
        command,
        cwd=state.course,
        env=env,
        user=uid,
        group=group,
        extra_groups=extra_groups,
        umask=0o007,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    gradebook = state.course / "gradebook.db"
    if gradebook.exists():  # sqlite makes it 0644 whatever the umask: every instructor's grading writes it
        gradebook.chmod(0o660)


def prepare(args: argparse.Namespace) -> tuple[Accounts, StateFolder]:
    """The roster's accounts and the state folder, made or put back as they should be."""
    roster = read_roster(args.roster)
    accounts = class_accounts(roster, args.prefix)
    select_chapters(args.chapters)  # an unknown chapter is refused before anything is made
    made = ensure_accounts(accounts)
    print(f"Accounts made: {', '.join(made)}" if made else "Accounts: all there already.", flush=True)
    state = StateFolder(args.state.resolve())
    ensure_state(state, accounts)
    return accounts, state


def check_interpreter(accounts: Accounts) -> None:
    """The course environment's python finds the hub's interpreter as the grader and as a learner."""
    for user in (accounts.grader, *accounts.learners[:1]):
        problem = interpreter_problem(sys.executable, user, ids(user)[0], account_groups(user))
        if problem:
            raise Unreachable(problem)


def configure(args: argparse.Namespace, accounts: Accounts, state: StateFolder) -> Settings:
    """Publish the chapters; the hub's settings, written to the state folder."""
    print(f"Publishing the chapters to the exchange in {state.exchange} ...", flush=True)
    publish(state, accounts, args.chapters)
    settings = Settings(
        repo=str(REPO_ROOT),
        python=sys.executable,
        state=str(state.root),
        ip=args.ip,
        port=args.port,
        hub_port=free_port(),
        proxy_api_port=free_port(),
        grader_port=free_port(),
        proxy_command=str(PROXY),
        instructors=list(accounts.instructors),
        learners=list(accounts.learners),
        grader=accounts.grader,
        ssl_cert=str(args.ssl_cert.resolve()) if args.ssl_cert else "",
        ssl_key=str(args.ssl_key.resolve()) if args.ssl_key else "",
        cull_timeout=args.cull_idle,
        cull_every=max(10, min(300, args.cull_idle // 2)),
        grade_continuously=args.grade_continuously,
    )
    write_settings(settings, state.settings)
    return settings


def run_hub(settings: Settings) -> int:
    """JupyterHub in the foreground until it ends; SIGTERM or Ctrl+C stops it (it stops the rest)."""
    state = StateFolder(Path(settings.state))
    env = {**os.environ, SETTINGS_ENV: str(state.settings), "PYTHONPATH": settings.repo}
    command = [settings.python, "-m", "jupyterhub", "-f", str(CONFIG)]
    hub = subprocess.Popen(command, cwd=state.hub, env=env)

    def stop(signum: int, frame: FrameType | None) -> None:
        hub.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    print(f"JupyterHub at {settings.url}/hub/ (first visit: {settings.url}/hub/signup); Ctrl+C stops it", flush=True)
    while True:
        try:
            return hub.wait()
        except KeyboardInterrupt:  # the hub got the same Ctrl+C and is stopping its servers
            time.sleep(0.1)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if os.geteuid() != 0:
        print("course.py hub runs as root: it makes system accounts and starts servers as them.", file=sys.stderr)
        return 2
    if not PROXY.exists():
        print(f"{PROXY} is missing: `python3 course.py hub` installs it (npm ci in hub/proxy/).", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, terminate)  # until the hub runs: what was opened to the class is closed again
    try:
        accounts, state = prepare(args)
        groups = [gid(accounts.instructors_group), gid(accounts.learners_group)]
        with reachable(needed_paths(REPO_ROOT, state.root), groups, state.access_record) as opened:
            if opened:
                listed = ", ".join(map(str, opened))
                print(f"Opened to the class's groups, traverse only, while the hub runs: {listed}", flush=True)
            check_interpreter(accounts)
            return run_hub(configure(args, accounts, state))
    except (RosterError, ValueError) as error:  # Unreachable too: its message says what to do
        print(f"error: {error}", file=sys.stderr)
        return 2


def terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
