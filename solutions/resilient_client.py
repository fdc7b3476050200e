"""Chapter 10 reference solution: a resilient HTTP client over one shared ``httpx.AsyncClient``.

Times are the running loop's clock (``asyncio.get_running_loop().time()``), virtual
seconds under :func:`coursekit.virtual_time.run_virtual`.

:class:`ResilientClient` ``(client, policy, *, breaker_factory, limiter_factory, fallback=None)``
puts these layers around every request, outermost first::

    get:    cache -> bulkhead -> fallback
    fetch:  retry within the deadline -> the host's breaker
    attempt: the shared limiter -> the per-attempt timeout -> the request

- **Construction** (exercise 1): the limiter is made once, by ``limiter_factory()``, in
  ``__init__`` (``self.limiter``); a host's breaker is made by ``breaker_factory(host)`` the
  first time :meth:`breaker_for` is asked for that host, and the same object is returned
  ever after. So every call shares one limiter and one breaker per host (002's
  ``resilient_api_call`` makes new ones on every call: its breaker never opens and its
  limiter never limits).
- :meth:`attempt` ``(url, timeout)``: one admission from ``self.limiter`` (``await
  acquire()``), then ``GET url`` within ``timeout`` seconds (``TimeoutError`` after it); a
  429 or 5xx answer raises :class:`~coursekit.chapters.resilient_client.given.FailedAnswer`; any other
  answer (2xx, 3xx, a 4xx but 429) is returned.
- :meth:`fetch` ``(url)`` (exercise 2): each attempt goes through ``breaker_for(host).call``,
  so a timeout, a transport error or a failed answer is a failure the breaker counts.
  ``CircuitOpenError`` is passed on at once (no retry, no wait). A ``FailedAnswer``,
  ``TimeoutError`` or ``httpx.TransportError`` is retried, at most ``policy.attempts``
  attempts in all, waiting the next of ``policy.delays()`` or, when the answer has a
  ``Retry-After``, what it says; it gives up (raises the last error) when attempts or delays
  run out or when the wait would end at or after ``policy.deadline`` seconds from the start
  of the call (no time would be left for an attempt). An attempt never runs past the deadline either: its timeout is
  ``min(attempt_timeout, time left)``. Any other exception propagates at once.
- :meth:`get` ``(url)`` (exercise 3): a 2xx answer stored less than ``policy.cache_ttl``
  seconds ago is returned without a request (no bulkhead, no limiter); otherwise at most
  ``policy.max_in_flight`` calls are past the bulkhead at once (the others wait);
  :meth:`fetch`'s error goes to ``fallback(url, error)`` when there is a fallback (its value
  is returned), else is raised; a 2xx answer is stored in the cache when ``cache_ttl > 0``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from coursekit.chapters.circuit_breaker.given import CircuitOpenError
from coursekit.chapters.resilient_client.given import (
    Breaker,
    ClientPolicy,
    FailedAnswer,
    Limiter,
    host_of,
    retry_after_seconds,
)


class ResilientClient:
    """Every request of many callers, through one limiter, a breaker per host, retries, a bulkhead and a cache.

    ::

        client = ResilientClient(http, ClientPolicy(), breaker_factory=breakers_of(3, 10.0),
                                 limiter_factory=lambda: AsyncLimiter(10, 1.0), fallback=lambda url, error: None)
        response = await client.get("/items/1")
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        policy: ClientPolicy,
        *,
        breaker_factory: Callable[[str], Breaker],
        limiter_factory: Callable[[], Limiter],
        fallback: Callable[[str, Exception], Any] | None = None,
    ) -> None:
        self.client = client  # one shared httpx client: its connection pool serves every call
        self.policy = policy
        self.breaker_factory = breaker_factory
        self.fallback = fallback
        ### BEGIN SOLUTION
        self.limiter = limiter_factory()
        self.breakers: dict[str, Breaker] = {}
        self.bulkhead = asyncio.Semaphore(policy.max_in_flight)
        self.cache: dict[str, tuple[float, httpx.Response]] = {}
        ### END SOLUTION

    def breaker_for(self, host: str) -> Breaker:
        """The breaker of ``host``: made by ``breaker_factory(host)`` when first asked for, the same one after."""
        ### BEGIN SOLUTION
        if host not in self.breakers:
            self.breakers[host] = self.breaker_factory(host)
        return self.breakers[host]
        ### END SOLUTION

    async def attempt(self, url: str, timeout: float) -> httpx.Response:
        """One admission from the limiter, then ``GET url`` within ``timeout``; 429/5xx raise FailedAnswer."""
        ### BEGIN SOLUTION
        await self.limiter.acquire()
        async with asyncio.timeout(timeout):
            response = await self.client.get(url)
        if response.status_code == 429 or response.is_server_error:
            raise FailedAnswer(response)
        return response
        ### END SOLUTION

    async def fetch(self, url: str) -> httpx.Response:
        """Attempts through the host's breaker, retried with backoff and Retry-After, within the deadline."""
        ### BEGIN SOLUTION
        loop = asyncio.get_running_loop()
        policy = self.policy
        ends = None if policy.deadline is None else loop.time() + policy.deadline
        breaker = self.breaker_for(host_of(self.client, url))
        delays = policy.delays()
        made = 0
        while True:
            made += 1
            timeout = policy.attempt_timeout if ends is None else min(policy.attempt_timeout, ends - loop.time())
            try:
                return await breaker.call(self.attempt, url, timeout)
            except CircuitOpenError:
                raise
            except (FailedAnswer, TimeoutError, httpx.TransportError) as error:
                if made >= policy.attempts:
                    raise
                wait = next(delays, None)
                if isinstance(error, FailedAnswer):
                    asked = retry_after_seconds(error.response)
                    if asked is not None:
                        wait = asked
                if wait is None or (ends is not None and loop.time() + wait >= ends):
                    raise
                await asyncio.sleep(wait)
        ### END SOLUTION

    async def get(self, url: str) -> Any:
        """A fresh cached answer, or :meth:`fetch` behind the bulkhead; its error to the fallback if there is one."""
        ### BEGIN SOLUTION
        loop = asyncio.get_running_loop()
        ttl = self.policy.cache_ttl
        cached = self.cache.get(url)
        if ttl > 0 and cached is not None and loop.time() < cached[0] + ttl:
            return cached[1]
        async with self.bulkhead:
            try:
                response = await self.fetch(url)
            except Exception as error:
                if self.fallback is None:
                    raise
                return self.fallback(url, error)
        if ttl > 0 and response.is_success:
            self.cache[url] = (loop.time(), response)
        return response
        ### END SOLUTION


def admit_links(links: list[str], depth: int, depths: dict[str, int], *, max_depth: int, max_pages: int) -> list[str]:
    """The links of ``links`` to crawl at ``depth``, in order; each is recorded in ``depths``."""
    admitted: list[str] = []
    if depth > max_depth:
        return admitted
    for link in links:
        if len(depths) >= max_pages:
            break
        if link not in depths:
            depths[link] = depth
            admitted.append(link)
    return admitted
