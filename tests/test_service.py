"""The fault-injecting HTTP service: seeded faults in-process on the virtual clock, and served live."""

from __future__ import annotations

import asyncio
import email.utils
import re
import subprocess
import sys
import threading

import httpx
import pytest

from coursekit.events import Event
from coursekit.service import Faults, Latency, RateLimit, Service
from coursekit.service.app import link_graph
from coursekit.service.live import serve_live
from coursekit.virtual_time import run_virtual

Answer = tuple[float, int | None]  # (virtual seconds since the service started, status)


def answers(service: Service, paths: list[tuple[float, str]], *, timeout: float = 30.0) -> list[Answer]:
    """Send a GET for each (time, path) at that virtual time; the time each answer came, and its status."""

    async def main() -> list[Answer]:
        async with service.client() as client:
            start = asyncio.get_running_loop().time()

            async def one(at: float, path: str) -> Answer:
                await asyncio.sleep(at)
                try:
                    async with asyncio.timeout(timeout):
                        response = await client.get(path)
                except TimeoutError:
                    return asyncio.get_running_loop().time() - start, None
                return asyncio.get_running_loop().time() - start, response.status_code

            return list(await asyncio.gather(*(one(at, path) for at, path in paths)))

    return run_virtual(main, deadline=120).unwrap() or []


def test_the_same_seed_gives_the_same_faults_and_another_seed_others() -> None:
    faults = Faults(error_rate=0.5, latency=Latency.uniform(0.01, 0.5))
    first = answers(Service(seed=7, faults=faults), [(0.0, f"/items/{n % 5}") for n in range(40)])
    assert first == answers(Service(seed=7, faults=faults), [(0.0, f"/items/{n % 5}") for n in range(40)])
    assert first != answers(Service(seed=8, faults=faults), [(0.0, f"/items/{n % 5}") for n in range(40)])
    assert {500, 503, 200} <= {status for _, status in first}


def test_a_path_sees_the_same_faults_whatever_other_paths_do() -> None:
    faults = Faults(error_rate=0.5)
    alone = [s for _, s in answers(Service(seed=3, faults=faults), [(n, "/items/1") for n in range(10)])]
    mixed = answers(Service(seed=3, faults=faults), [(n / 2, f"/items/{1 + n % 2}") for n in range(20)])
    assert [status for (_, status), n in zip(mixed, range(20), strict=True) if n % 2 == 0] == alone


def test_latency_is_drawn_from_the_distribution_on_the_virtual_clock() -> None:
    assert answers(Service(faults=Faults(latency=Latency.fixed(1.5))), [(2.0, "/items/1")]) == [(3.5, 200)]
    uniform = Service(faults=Faults(latency=Latency.uniform(1.0, 2.0)))
    times = [t for t, _ in answers(uniform, [(0.0, "/items/1")] * 30)]
    assert all(1.0 <= t <= 2.0 for t in times) and len(set(times)) > 20
    tail = [
        t for t, _ in answers(Service(faults=Faults(latency=Latency.lognormal(0.1, 1.0))), [(0.0, "/items/1")] * 200)
    ]
    assert sorted(tail)[100] == pytest.approx(0.1, rel=0.5) and max(tail) > 0.5  # a median near 0.1, a long tail


def test_an_outage_answers_503_at_once_inside_its_window_only() -> None:
    service = Service(faults=Faults(latency=Latency.fixed(0.1), outages=((2.0, 4.0),)))
    got = answers(service, [(1.0, "/items/1"), (2.0, "/items/1"), (3.9, "/items/1"), (4.0, "/items/1")])
    assert got == [(1.1, 200), (2.0, 503), (3.9, 503), (4.1, 200)]


def test_flapping_is_down_at_the_start_of_each_period() -> None:
    service = Service(faults=Faults(latency=Latency.fixed(0.0), flapping=(10.0, 3.0)))
    got = [status for _, status in answers(service, [(t, "/items/1") for t in (0.0, 2.9, 3.0, 9.9, 10.0, 13.0)])]
    assert got == [503, 503, 200, 200, 503, 200]


def test_the_rate_limit_answers_429_with_retry_after_in_seconds() -> None:
    service = Service(faults=Faults(latency=Latency.fixed(0.0), rate_limit=RateLimit(3, 2.0)))

    async def main() -> list[httpx.Response]:
        async with service.client() as client:
            await asyncio.sleep(0.5)
            first = [await client.get(f"/items/{n}") for n in range(4)]  # one window: 3 pass
            await asyncio.sleep(1.5)  # t = 2.0: a new window
            return [*first, await client.get("/items/9")]

    replies = run_virtual(main).unwrap() or []
    assert [reply.status_code for reply in replies] == [200, 200, 200, 429, 200]
    assert replies[3].headers["retry-after"] == "2"  # 1.5 s left in the window, rounded up


def test_the_rate_limit_can_answer_with_an_http_date() -> None:
    service = Service(faults=Faults(latency=Latency.fixed(0.0), rate_limit=RateLimit(1, 10.0, "http-date")))

    async def main() -> httpx.Response:
        async with service.client() as client:
            await client.get("/items/1")
            await asyncio.sleep(3.0)
            return await client.get("/items/1")

    reply = run_virtual(main).unwrap()
    assert reply is not None and reply.status_code == 429
    wait = email.utils.parsedate_to_datetime(reply.headers["retry-after"]) - email.utils.parsedate_to_datetime(
        reply.headers["date"]
    )
    assert wait.total_seconds() == 7.0


def test_a_hang_never_answers_and_the_client_timeout_is_recorded_as_cancelled() -> None:
    service = Service(faults=Faults(hang_rate=1.0))
    assert answers(service, [(1.0, "/items/1")], timeout=5.0) == [(6.0, None)]
    (record,) = service.log
    assert (record.time, record.path, record.status, record.outcome, record.ended) == (
        1.0,
        "/items/1",
        None,
        "cancelled",
        6.0,
    )


def test_endpoints_have_their_own_faults_by_longest_prefix() -> None:
    service = Service(
        faults=Faults(latency=Latency.fixed(0.0)),
        endpoints={
            "/items": Faults(error_rate=1.0, latency=Latency.fixed(0.0)),
            "/items/7": Faults(latency=Latency.fixed(0.0)),
        },
    )
    got = [status for _, status in answers(service, [(0.0, "/items/1"), (0.0, "/items/7"), (0.0, "/pages/0")])]
    assert got[0] in (500, 503) and got[1:] == [200, 200]


def test_every_request_is_recorded_and_emitted() -> None:
    service = Service(faults=Faults(latency=Latency.fixed(0.25), outages=((0.0, 1.0),)))

    async def main() -> None:
        async with service.client() as client:
            await client.get("/items/1")
            await asyncio.sleep(1.0)
            await client.get("/pages/0")

    run = run_virtual(main)
    assert [(r.time, r.path, r.status, r.outcome, r.ended) for r in service.log] == [
        (0.0, "/items/1", 503, "outage", 0.0),
        (1.0, "/pages/0", 200, "ok", 1.25),
    ]
    assert [(e.time, e.kind, dict(e.fields)) for e in run.of_kind("server.request", "server.response")] == [
        (0.0, "server.request", {"path": "/items/1"}),
        (0.0, "server.response", {"path": "/items/1", "status": 503, "outcome": "outage"}),
        (1.0, "server.request", {"path": "/pages/0"}),
        (1.25, "server.response", {"path": "/pages/0", "status": 200, "outcome": "ok"}),
    ]
    assert all(isinstance(event, Event) for event in run.events)


def test_the_link_graph_reaches_every_page_from_page_0_and_pages_show_their_links() -> None:
    links = link_graph(seed=5, pages=30)
    seen, frontier = {0}, [0]
    while frontier:
        for target in links[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(range(30)) and link_graph(seed=5, pages=30) == links != link_graph(seed=6, pages=30)

    async def main() -> tuple[str, int]:
        async with Service(seed=5).client() as client:
            page = await client.get("/pages/0")
            return page.text, (await client.get("/pages/30")).status_code

    text, missing = run_virtual(main).unwrap() or ("", 0)
    assert [int(n) for n in re.findall(r'href="/pages/(\d+)"', text)] == links[0] and missing == 404


def test_faults_reject_impossible_settings() -> None:
    for bad in (
        lambda: Faults(error_rate=1.5),
        lambda: Faults(outages=((3.0, 1.0),)),
        lambda: Faults(flapping=(1.0, 2.0)),
        lambda: Latency.uniform(2.0, 1.0),
    ):
        with pytest.raises(ValueError):
            bad()


# -- served for real ---------------------------------------------------------------------------


def get(url: str) -> httpx.Response:
    with httpx.Client(timeout=5.0) as client:
        return client.get(url)


def test_the_same_client_code_works_against_the_live_server() -> None:
    service = Service(seed=7, faults=Faults(latency=Latency.fixed(0.0)))
    with serve_live(service) as url:
        assert url.startswith("http://127.0.0.1:")
        assert get(f"{url}/items/3").json() == {"item": 3}
        log = get(f"{url}/log").json()
    assert [(entry["path"], entry["status"], entry["outcome"]) for entry in log] == [("/items/3", 200, "ok")]
    with pytest.raises(httpx.ConnectError):
        get(f"{url}/items/3")


def test_the_live_server_stops_when_the_cell_is_interrupted() -> None:
    running: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        with serve_live(Service()) as url:
            running.append(url)
            raise KeyboardInterrupt  # what the kernel's stop button raises in a cell
    assert not any(thread.name == "course-service" for thread in threading.enumerate())
    with pytest.raises(httpx.ConnectError):
        get(f"{running[0]}/items/1")


def test_the_command_serves_until_terminated() -> None:
    command = [sys.executable, "-m", "coursekit.service", "--port", "0", "--seed", "7", "--latency", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert url, f"no URL in {line!r}; stderr: {process.stderr.read() if process.stderr else ''}"
        assert get(f"{url.group(0)}/items/5").json() == {"item": 5}
        process.terminate()
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.wait()


def test_a_live_hang_ends_when_the_client_gives_up() -> None:
    service = Service(faults=Faults(hang_rate=1.0))
    with serve_live(service) as url:
        with httpx.Client(timeout=0.2) as client, pytest.raises(httpx.ReadTimeout):
            client.get(f"{url}/items/1")
    assert [(record.path, record.status, record.outcome) for record in service.log] == [("/items/1", None, "cancelled")]
    assert not any(thread.name == "course-service" for thread in threading.enumerate())
