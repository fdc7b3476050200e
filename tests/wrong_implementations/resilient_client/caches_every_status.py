"""Every answer the service gives is cached, a 404 included: a page that was missing stays missing for
cache_ttl seconds, even after it appears.
"""


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
        self.limiter = limiter_factory()
        self.breakers: dict[str, Breaker] = {}
        self.bulkhead = asyncio.Semaphore(policy.max_in_flight)
        self.cache: dict[str, tuple[float, httpx.Response]] = {}

    def breaker_for(self, host: str) -> Breaker:
        """The breaker of ``host``: made by ``breaker_factory(host)`` when first asked for, the same one after."""
        if host not in self.breakers:
            self.breakers[host] = self.breaker_factory(host)
        return self.breakers[host]

    async def attempt(self, url: str, timeout: float) -> httpx.Response:
        """One admission from the limiter, then ``GET url`` within ``timeout``; 429/5xx raise FailedAnswer."""
        await self.limiter.acquire()
        async with asyncio.timeout(timeout):
            response = await self.client.get(url)
        if response.status_code == 429 or response.is_server_error:
            raise FailedAnswer(response)
        return response

    async def fetch(self, url: str) -> httpx.Response:
        """Attempts through the host's breaker, retried with backoff and Retry-After, within the deadline."""
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

    async def get(self, url: str) -> Any:
        """A fresh cached answer, or :meth:`fetch` behind the bulkhead; its error to the fallback if there is one."""
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
        if ttl > 0:
            self.cache[url] = (loop.time(), response)
        return response


EXPECT = {
    "check": "check_get_cache",
    "subject": "ResilientClient",
    "property": "a non-2xx answer is not cached: two gets of a 404 page make two requests",
    "observed": "/pages/999 was requested 1 time(s)",
    "hint": "response.is_success",
}
