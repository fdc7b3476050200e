#!/usr/bin/env python3
"""The class hub under load: 30 learners' servers started at once on this machine.

    sudo .venv/bin/python benchmarks/hub_load.py [--learners 30] [--idle 20] [--no-kernels]

Starts ``python3 course.py hub`` for a throwaway class (1 instructor and N learners, accounts with a
random prefix, a state folder of its own in /tmp, 127.0.0.1 on a free port, every chapter published);
the instructor signs up, logs in and makes an API token, with which all N learners' servers are
started at once through the hub's REST API (``POST /hub/api/users/NAME/server``, the instructor's
role may start servers). Then, by default, each learner signs up, makes a token and opens one
kernel in their server, as a learner with a notebook open. It prints:

- the time from the first request until all N servers are ready, and each server's ready time
  (from its own request to the first poll that saw it ready; polls every 0.5 s); the CPU time each
  server took to start and JupyterHub's own CPU time meanwhile;
- memory per learner, the sum over every process of the learner's system account (their server,
  then their server and kernel): PSS (proportional set size: each shared page divided among the
  processes that map it; the N servers share the course environment's libraries, so PSS summed
  over them is what they take from the machine) and, beside it, RSS (which counts each shared page
  in full in every server, so overstates the cost of one more learner); median and max; the drop
  in the machine's MemAvailable as a check on the PSS sum;
- the memory of the hub itself, its proxy, the grading server and the idle culler (PSS and RSS);
- the hub's response time, median and p95, for ``GET /hub/api/users`` (the instructor's token)
  and the page ``/hub/home`` (the instructor's session), both through the proxy, one request at a
  time every 0.25 s: at idle (no server running), while the N servers spawn, with them running,
  and while the learners sign up, log in and run their kernels' first cell ("sign-in+kernel").

The hub is stopped and the accounts and folders deleted at the end, whatever happened (Ctrl+C
included). Root only (the hub makes system accounts). Not a test: figures vary with the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.accounts import Accounts, ids  # noqa: E402
from tests.class_hub import class_hub  # noqa: E402
from tests.test_hub import Hub, log_in, sign_up  # noqa: E402

MIB = 1024 * 1024
SAMPLE_EVERY = 0.25  # seconds between two response-time samples
POLL_EVERY = 0.5  # seconds between two looks at which servers are ready


def roster(learners: int) -> str:
    lines = ['[[instructor]]\nusername = "ins"\n']
    lines += [f'[[learner]]\nusername = "l{number:03d}"\n' for number in range(1, learners + 1)]
    return "\n".join(lines)


# ---- the hub ----


@contextmanager
def running_hub(learners: int, chapters: list[str]) -> Iterator[Hub]:
    """``course.py hub`` for a throwaway class (tests/class_hub.py): stopped, its accounts and folders
    deleted on the way out."""
    started = time.monotonic()
    options = ["--chapters", *chapters] if chapters else []
    with class_hub(roster(learners), *options, prefix_letter="b", start_seconds=600) as hub:
        print(f"the hub answered {time.monotonic() - started:.0f} s after `course.py hub` started", flush=True)
        yield hub


def token_for(hub: Hub, user: str) -> str:
    """An API token of ``user``, who signs up and logs in first (NativeAuthenticator's forms)."""
    assert "The signup was successful" in sign_up(hub, user), f"{user} could not sign up"
    session = log_in(hub, user)
    assert session is not None, f"{user} could not log in"
    with closing(session):
        headers = {"X-XSRFToken": session.cookies["_xsrf"]}
        made = session.post(f"/hub/api/users/{user}/tokens", json={"note": "hub_load"}, headers=headers)
    assert made.status_code == 201, made.text
    return str(made.json()["token"])


# ---- the hub's response time, sampled in a thread of its own ----


@dataclass
class Sampler:
    """Times ``GET /hub/api/users`` and ``/hub/home`` in turn, labelled by the current phase."""

    api: httpx.Client
    page: httpx.Client
    phase: str = "idle"
    times: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    failures: dict[tuple[str, str], int] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        requests: list[tuple[str, Callable[[], httpx.Response]]] = [
            ("GET /hub/api/users", lambda: self.api.get("/users")),
            ("GET /hub/home", lambda: self.page.get("/hub/home")),
        ]
        while not self.done.is_set():
            for name, request in requests:
                phase, started = self.phase, time.perf_counter()
                try:
                    ok = request().status_code == 200
                except httpx.HTTPError:
                    ok = False
                key = (phase, name)
                if ok:
                    self.times.setdefault(key, []).append(time.perf_counter() - started)
                else:
                    self.failures[key] = self.failures.get(key, 0) + 1
                self.done.wait(SAMPLE_EVERY)


# ---- memory ----


@dataclass(frozen=True)
class Memory:
    rss: int
    pss: int
    processes: int


@dataclass(frozen=True)
class Proc:
    """One process as ``/proc`` shows it."""

    pid: int
    parent: int
    uid: int
    command: str


def all_processes() -> list[Proc]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            status = Path(f"/proc/{pid}/status").read_text()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # ended meanwhile
            continue
        uid = re.search(r"^Uid:\s+(\d+)", status, re.M)
        assert uid
        found.append(Proc(int(pid), int(stat.rpartition(")")[2].split()[1]), int(uid[1]), command))
    return found


def memory_of(processes: list[Proc]) -> Memory:
    """RSS and PSS summed over ``processes`` (``/proc/N/smaps_rollup``, readable by root)."""
    rss = pss = count = 0
    for process in processes:
        try:
            rollup = Path(f"/proc/{process.pid}/smaps_rollup").read_text()
        except OSError:
            continue
        kib = {name: int(value) for name, value in re.findall(r"^(\w+):\s+(\d+) kB", rollup, re.M)}
        rss, pss, count = rss + kib["Rss"] * 1024, pss + kib["Pss"] * 1024, count + 1
    return Memory(rss, pss, count)


def cpu_seconds(processes: list[Proc]) -> float:
    """User and system CPU time summed over ``processes`` (``/proc/N/stat``), in seconds."""
    ticks = 0
    for process in processes:
        try:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of proc(5)
    return ticks / os.sysconf("SC_CLK_TCK")


def descendants(pid: int, processes: list[Proc]) -> list[Proc]:
    own, found = {pid}, True
    while found:
        found = False
        for process in processes:
            if process.parent in own and process.pid not in own:
                own.add(process.pid)
                found = True
    return [process for process in processes if process.pid in own - {pid}]


def hub_parts(hub: Hub) -> dict[str, list[Proc]]:
    """The hub's own processes: JupyterHub, its proxy, the grading server, the idle culler."""
    children = descendants(hub.process.pid, all_processes())
    grader = ids(hub.accounts.grader)[0]

    def named(part: str) -> list[Proc]:
        return [child for child in children if part in child.command]

    return {
        "JupyterHub": named("-m jupyterhub -f"),
        "proxy (configurable-http-proxy)": named("configurable-http-proxy"),
        "grading server (asyncio-course)": [child for child in children if child.uid == grader],
        "idle culler": named("jupyterhub_idle_culler"),
    }


def meminfo(name: str) -> int:
    """``name``'s figure in ``/proc/meminfo``, in bytes."""
    found = re.search(rf"^{name}:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    assert found, name
    return int(found[1]) * 1024


def learners_processes(accounts: Accounts) -> list[list[Proc]]:
    """Each learner's processes: every process of their system account."""
    processes = all_processes()
    return [[process for process in processes if process.uid == ids(learner)[0]] for learner in accounts.learners]


def per_learner(accounts: Accounts) -> list[Memory]:
    return [memory_of(processes) for processes in learners_processes(accounts)]


def print_memory(title: str, memories: list[Memory]) -> None:
    pss = [memory.pss / MIB for memory in memories]
    rss = [memory.rss / MIB for memory in memories]
    counts = sorted({memory.processes for memory in memories})
    print(f"\n{title} ({'/'.join(map(str, counts))} processes each), MiB:")
    print(f"  PSS median {statistics.median(pss):6.1f}  max {max(pss):6.1f}  sum {sum(pss):7.0f}")
    print(f"  RSS median {statistics.median(rss):6.1f}  max {max(rss):6.1f}  sum {sum(rss):7.0f}")


# ---- the phases ----


def start_servers(api: httpx.Client, learners: tuple[str, ...]) -> dict[str, float]:
    """Ask for every learner's server at once; when each request was sent (monotonic)."""
    asked: dict[str, float] = {}

    def ask(learner: str) -> None:
        asked[learner] = time.monotonic()
        answer = api.post(f"/users/{learner}/server", timeout=120)
        assert answer.status_code in (201, 202), f"{learner}: {answer.status_code} {answer.text}"

    with ThreadPoolExecutor(len(learners)) as pool:
        list(pool.map(ask, learners))
    return asked


def wait_ready(api: httpx.Client, learners: tuple[str, ...], asked: dict[str, float], limit: float) -> dict[str, float]:
    """Seconds from each learner's request until a poll saw their server ready."""
    ready: dict[str, float] = {}
    while len(ready) < len(learners):
        if asked and time.monotonic() - min(asked.values()) > limit:
            missing = sorted(set(learners) - set(ready))
            raise SystemExit(f"not ready after {limit:.0f} s: {', '.join(missing)}")
        for user in api.get("/users", timeout=60).json():
            if user["name"] in asked and user["name"] not in ready and user["servers"].get("", {}).get("ready"):
                ready[user["name"]] = time.monotonic() - asked[user["name"]]
        time.sleep(POLL_EVERY)
    return ready


KERNEL_CODE = """\
%matplotlib inline
import asyncio
from coursekit import exercise_done, run_virtual
from coursekit.chapters.timeouts import Operation, check_call_with_fallback, show_busy_timeline
"""  # the setup cell of chapter 5, as a learner runs it first


async def execute(url: str, token: str, code: str) -> None:
    """Run ``code`` in the kernel whose channels are at ``url`` (Jupyter's protocol over a websocket)."""
    request = HTTPRequest(url, headers={"Authorization": f"token {token}"}, request_timeout=120)
    socket = await websocket_connect(request)
    msg_id = uuid.uuid4().hex
    content = {"code": code, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False}
    header = {"msg_id": msg_id, "msg_type": "execute_request", "username": "", "session": msg_id, "version": "5.3"}
    message = {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": "shell"}
    await socket.write_message(json.dumps(message))
    try:
        while True:
            answer = await asyncio.wait_for(socket.read_message(), 180)
            assert isinstance(answer, str), f"{url}: the kernel's channels closed"
            reply = json.loads(answer)
            if reply["msg_type"] == "execute_reply" and reply["parent_header"].get("msg_id") == msg_id:
                assert reply["content"]["status"] == "ok", reply["content"]
                return
    finally:
        socket.close()


def open_kernels(hub: Hub, learners: tuple[str, ...]) -> None:
    """Each learner signs up, makes a token, starts one kernel in their server and runs a chapter's
    setup cell in it."""

    def one(learner: str) -> None:
        token = token_for(hub, learner)
        base = f"{hub.url}/user/{learner}/api"
        headers = {"Authorization": f"token {token}"}
        made = httpx.post(f"{base}/kernels", json={"name": "python3"}, headers=headers, timeout=120)
        assert made.status_code == 201, f"{learner}: {made.status_code} {made.text[:300]}"
        channels = f"{base.replace('http', 'ws', 1)}/kernels/{made.json()['id']}/channels"
        asyncio.run(execute(channels, token, KERNEL_CODE))

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(one, learners))


def stop_servers(api: httpx.Client, accounts: Accounts) -> float:
    """Stop every learner's server through the API (their kernels with them); seconds until none runs."""
    began = time.monotonic()
    with ThreadPoolExecutor(len(accounts.learners)) as pool:
        list(pool.map(lambda learner: api.delete(f"/users/{learner}/server"), accounts.learners))
    while any(learners_processes(accounts)):
        assert time.monotonic() - began < 300, "learners' servers still running 300 s after they were stopped"
        time.sleep(0.5)
    return time.monotonic() - began


def print_times(sampler: Sampler) -> None:
    print("\nthe hub's response time through the proxy, ms (one request at a time):")
    print(f"  {'phase':<14} {'request':<20} {'n':>4} {'median':>8} {'p95':>8} {'max':>8} {'failed':>6}")
    phases = list(dict.fromkeys(phase for phase, _ in sampler.times))
    for (phase, name), times in sorted(sampler.times.items(), key=lambda item: (phases.index(item[0][0]), item[0][1])):
        ms = [value * 1000 for value in times]
        failed = sampler.failures.get((phase, name), 0)
        print(
            f"  {phase:<14} {name:<20} {len(ms):4d} {statistics.median(ms):8.0f} "
            f"{np.percentile(ms, 95, method='inverted_cdf'):8.0f} {max(ms):8.0f} {failed:6d}"
        )


def measure(hub: Hub, idle_seconds: float, kernels: bool) -> None:
    learners = hub.accounts.learners
    instructor = hub.accounts.instructors[0]
    token = {"Authorization": f"token {token_for(hub, instructor)}"}
    api = httpx.Client(base_url=f"{hub.url}/hub/api", headers=token, timeout=120)
    page = log_in(hub, instructor)
    assert page is not None
    page.timeout = httpx.Timeout(120)
    sampler = Sampler(httpx.Client(base_url=f"{hub.url}/hub/api", headers=token, timeout=120), page)
    thread = threading.Thread(target=sampler.run, daemon=True)
    thread.start()
    try:
        time.sleep(idle_seconds)
        before = meminfo("MemAvailable")
        sampler.phase = "spawning"
        hub_cpu = cpu_seconds(hub_parts(hub)["JupyterHub"])
        began = time.monotonic()
        asked = start_servers(api, learners)
        requested = time.monotonic() - began
        ready = wait_ready(api, learners, asked, 600)
        all_ready = time.monotonic() - began
        hub_cpu = cpu_seconds(hub_parts(hub)["JupyterHub"]) - hub_cpu
        start_cpu = [cpu_seconds(processes) for processes in learners_processes(hub.accounts)]
        sampler.phase = f"{len(learners)} running"
        time.sleep(idle_seconds)
        after = meminfo("MemAvailable")
        servers = per_learner(hub.accounts)
        parts = {name: memory_of(processes) for name, processes in hub_parts(hub).items()}
        if kernels:
            sampler.phase = "sign-in+kernel"
            open_kernels(hub, learners)
            with_kernels, after_kernels = per_learner(hub.accounts), meminfo("MemAvailable")
        stopped = stop_servers(api, hub.accounts)
    finally:
        sampler.done.set()
        thread.join()
        api.close()

    seconds = sorted(ready.values())
    print(f"\n{len(learners)} learners' servers asked for at once (the {len(learners)} requests answered in ", end="")
    print(f"{requested:.1f} s); all ready {all_ready:.1f} s after the first request")
    print(
        f"each server's ready time, s: min {seconds[0]:.1f}, median {statistics.median(seconds):.1f}, "
        f"p95 {np.percentile(seconds, 95, method='inverted_cdf'):.1f}, max {seconds[-1]:.1f}"
    )
    print("  sorted: " + " ".join(f"{value:.0f}" for value in seconds))
    print(
        f"CPU time a server took to start, s: median {statistics.median(start_cpu):.1f}, max {max(start_cpu):.1f} "
        f"(all {sum(start_cpu):.0f} s on {os.cpu_count()} cores); JupyterHub's meanwhile {hub_cpu:.1f} s"
    )
    print_memory("per learner: their server alone", servers)
    print(f"  the machine's MemAvailable fell by {(before - after) / MIB:.0f} MiB with the servers running")
    if kernels:
        print_memory("per learner: their server and a kernel that ran chapter 5's setup cell", with_kernels)
        print(f"  the machine's MemAvailable fell by {(before - after_kernels) / MIB:.0f} MiB from idle")
    print("\nthe hub's own processes, MiB:")
    for name, memory in parts.items():
        print(f"  {name:<34} PSS {memory.pss / MIB:6.1f}  RSS {memory.rss / MIB:6.1f}  ({memory.processes} processes)")
    print_times(sampler)
    print(f"\nall {len(learners)} servers stopped through the API in {stopped:.1f} s")
    print(f"\nat the end: {load()}")


def load() -> str:
    """The machine's load average: other work on it slows every figure."""
    return "load average (1, 5, 15 min) " + ", ".join(f"{value:.1f}" for value in os.getloadavg())


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=30, help="learners' servers to start (default 30)")
    parser.add_argument("--idle", type=float, default=20, help="seconds sampled before and after (default 20)")
    parser.add_argument("--no-kernels", dest="kernels", action="store_false", help="no kernel in each server")
    parser.add_argument("--chapters", nargs="*", default=[], help="chapters to publish (default: all)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("the hub runs as root (it makes system accounts)")
    print(f"{os.cpu_count()} cores, {meminfo('MemTotal') / 1024**3:.0f} GiB; {load()}", flush=True)
    with running_hub(args.learners, args.chapters) as hub:
        measure(hub, args.idle, args.kernels)


if __name__ == "__main__":
    main(sys.argv[1:])
