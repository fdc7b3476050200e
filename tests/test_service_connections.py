"""The connection model in front of the in-process service (coursekit/service/connections.py).

A client reuses its pool's idle connections; a new client per request pays a connection
each time; httpx.Limits and timeouts behave as httpx's own pool does; the service records
the client port of each connection, in-process and live."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from coursekit.service import Faults, Latency, Service
from coursekit.service.connections import FIRST_PORT, Connections
from coursekit.service.live import serve_live
from coursekit.virtual_time import run_virtual


def fan_out(connections: Connections, *, n: int, at_once: int, per_request: bool) -> Any:
    """``n`` GETs, ``at_once`` at a time, through one shared client or a new client per request."""

    async def main() -> tuple[list[int], float]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        semaphore = asyncio.Semaphore(at_once)
        async with connections.client() as shared:

            async def one(k: int) -> int:
                async with semaphore:
                    if per_request:
                        async with connections.client() as own:
                            return (await own.get(f"/items/{k}")).status_code
                    return (await shared.get(f"/items/{k}")).status_code

            statuses = await asyncio.gather(*(one(k) for k in range(n)))
        return list(statuses), loop.time() - start

    return run_virtual(main).unwrap()


def test_one_shared_client_reuses_its_connections() -> None:
    service = Service(faults=Faults(latency=Latency.fixed(0.5)))
    connections = Connections(service, connect_time=0.1)
    statuses, took = fan_out(connections, n=30, at_once=10, per_request=False)
    assert statuses == [200] * 30
    assert (connections.clients, connections.opened, connections.requests) == (1, 10, 30)
    assert took == pytest.approx(0.1 + 3 * 0.5)  # one handshake, then three waves
    ports = [record.client for record in service.log]
    assert len(set(ports)) == 10 and all(ports.count(port) == 3 for port in set(ports))
    assert set(ports) == {f"127.0.0.1:{FIRST_PORT + k}" for k in range(10)}


def test_a_client_per_request_pays_a_connection_per_request() -> None:
    service = Service(faults=Faults(latency=Latency.fixed(0.5)))
    connections = Connections(service, connect_time=0.1)
    statuses, took = fan_out(connections, n=30, at_once=10, per_request=True)
    assert statuses == [200] * 30
    assert (connections.clients, connections.opened) == (31, 30)  # the unused shared one, and 30 more
    assert took == pytest.approx(3 * (0.1 + 0.5))
    assert len({record.client for record in service.log}) == 30


def test_max_connections_makes_requests_wait_for_a_free_connection() -> None:
    service = Service(faults=Faults(latency=Latency.fixed(1.0)))
    connections = Connections(service, connect_time=0.25)

    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        async with connections.client(limits=httpx.Limits(max_connections=2)) as client:

            async def one(k: int) -> float:
                await client.get(f"/items/{k}")
                return loop.time()

            return list(await asyncio.gather(*(one(k) for k in range(5))))

    assert run_virtual(main).unwrap() == pytest.approx([1.25, 1.25, 2.25, 2.25, 3.25])
    assert connections.opened == 2


def test_the_pool_timeout_gives_up_waiting_for_a_connection() -> None:
    service = Service(faults=Faults(latency=Latency.fixed(3.0)))
    connections = Connections(service, connect_time=0.0)

    async def main() -> list[Any]:
        limits = httpx.Limits(max_connections=1)
        async with connections.client(limits=limits, timeout=httpx.Timeout(5.0, pool=1.0)) as client:
            return list(await asyncio.gather(client.get("/items/1"), client.get("/items/2"), return_exceptions=True))

    first, second = run_virtual(main).unwrap() or [None, None]
    assert isinstance(first, httpx.Response) and isinstance(second, httpx.PoolTimeout)


def test_a_hanging_service_times_out_and_its_connection_is_not_reused() -> None:
    service = Service(faults=Faults(latency=Latency.fixed(0.5)), endpoints={"/items/9": Faults(hang_rate=1.0)})
    connections = Connections(service, connect_time=0.1)

    async def main() -> tuple[Any, float, int]:
        loop = asyncio.get_running_loop()
        async with connections.client(timeout=2.0) as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.get("/items/9")
            timed_out = loop.time()
            await client.get("/items/1")
            return timed_out, loop.time(), connections.opened

    assert run_virtual(main).unwrap() == pytest.approx((2.1, 2.7, 2))
    assert [(record.path, record.outcome) for record in service.log] == [("/items/9", "cancelled"), ("/items/1", "ok")]


def test_idle_connections_expire_and_are_capped_by_max_keepalive() -> None:
    service = Service(faults=Faults(latency=Latency.fixed(0.0)))
    connections = Connections(service, connect_time=0.1)

    async def main() -> list[int]:
        opened = []
        limits = httpx.Limits(max_connections=10, max_keepalive_connections=2, keepalive_expiry=5.0)
        async with connections.client(limits=limits) as client:
            await asyncio.gather(*(client.get(f"/items/{k}") for k in range(4)))  # 4 open, 2 kept
            opened.append(connections.opened)
            await asyncio.gather(*(client.get(f"/items/{k}") for k in range(4)))  # 2 reused, 2 new
            opened.append(connections.opened)
            await asyncio.sleep(6)  # longer than keepalive_expiry: the idle ones are closed
            await client.get("/items/1")
            opened.append(connections.opened)
        return opened

    assert run_virtual(main).unwrap() == [4, 6, 7]


def test_intercept_turns_a_plain_async_client_into_a_client_of_the_service() -> None:
    service = Service(faults=Faults(latency=Latency.fixed(0.2)))
    connections = Connections(service)

    async def main() -> str:
        async with httpx.AsyncClient() as client:
            return (await client.get("http://anywhere.test/items/4")).text

    with connections.intercept():
        assert run_virtual(main).unwrap() == '{"item":4}'
    assert (connections.clients, connections.opened) == (1, 1)
    assert httpx.AsyncClient.__init__ is not None and run_virtual(main).outcome == "raised"  # patched no more


def test_a_cancelled_request_frees_its_slot_for_the_next_one() -> None:
    service = Service(faults=Faults(latency=Latency.fixed(1.0)))
    connections = Connections(service, connect_time=0.0)

    async def main() -> float:
        loop = asyncio.get_running_loop()
        async with connections.client(limits=httpx.Limits(max_connections=1)) as client:
            first = asyncio.create_task(client.get("/items/1"))
            waiting = asyncio.create_task(client.get("/items/2"))
            await asyncio.sleep(0.5)
            first.cancel()
            await asyncio.gather(first, return_exceptions=True)
            await waiting
            return loop.time()

    assert run_virtual(main).unwrap() == pytest.approx(1.5)
    assert connections.opened == 2


def test_live_the_service_sees_one_port_per_connection() -> None:
    service = Service(faults=Faults(latency=Latency.fixed(0.0)))

    async def shared(url: str) -> None:
        async with httpx.AsyncClient(base_url=url, limits=httpx.Limits(max_connections=2)) as client:
            for _ in range(3):
                await asyncio.gather(client.get("/items/1"), client.get("/items/2"))

    async def per_request(url: str) -> None:
        for _ in range(3):
            async with httpx.AsyncClient(base_url=url) as client:
                await client.get("/items/3")

    with serve_live(service) as url:
        asyncio.run(shared(url))
        asyncio.run(per_request(url))
    ports = [(record.path, record.client) for record in service.log]
    assert len({port for path, port in ports if path != "/items/3"}) <= 2
    assert len({port for path, port in ports if path == "/items/3"}) == 3
