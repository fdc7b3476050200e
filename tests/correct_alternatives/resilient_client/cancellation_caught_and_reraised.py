"""Cancellation handled by hand: get catches CancelledError to note the abandoned call and re-raises it; the
bulkhead slot is taken before a try whose finally gives it back; fetch sleeps with asyncio.wait_for on an
Event (a wait that a cancellation ends), reads the status class as ``status // 100 == 5``, and counts
attempts down; the cache keeps the arrival time and the age is compared.
"""


class ResilientClient:
    """Every request of many callers, through one limiter, a breaker per host, retries, a bulkhead and a cache."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        policy: ClientPolicy,
        *,
        breaker_factory: Callable[[str], Breaker],
        limiter_factory: Callable[[], Limiter],
        fallback: Callable[[str, Exception], Any] | None = None,
    ) -> None:
        self.client = client
        self.policy = policy
        self.breaker_factory = breaker_factory
        self.fallback = fallback
        self.limiter = limiter_factory()
        self.breakers: dict[str, Breaker] = {}
        self.bulkhead = asyncio.Semaphore(policy.max_in_flight)
        self.cache: dict[str, tuple[float, httpx.Response]] = {}
        self.abandoned = 0

    def breaker_for(self, host: str) -> Breaker:
        breaker = self.breakers.get(host)
        if breaker is None:
            breaker = self.breakers[host] = self.breaker_factory(host)
        return breaker

    async def attempt(self, url: str, timeout: float) -> httpx.Response:
        await self.limiter.acquire()
        async with asyncio.timeout(timeout):
            response = await self.client.get(url)
        if response.status_code == 429 or response.status_code // 100 == 5:
            raise FailedAnswer(response)
        return response

    async def fetch(self, url: str) -> httpx.Response:
        loop = asyncio.get_running_loop()
        started = loop.time()
        breaker = self.breaker_for(host_of(self.client, url))
        delays = self.policy.delays()
        left = self.policy.attempts
        while True:
            left -= 1
            timeout = self.policy.attempt_timeout
            if self.policy.deadline is not None:
                timeout = min(timeout, started + self.policy.deadline - loop.time())
            try:
                return await breaker.call(self.attempt, url, timeout)
            except (FailedAnswer, TimeoutError, httpx.TransportError) as error:
                if left == 0:
                    raise
                pause = next(delays, None)
                said = retry_after_seconds(error.response) if isinstance(error, FailedAnswer) else None
                pause = pause if said is None else said
                if pause is None:
                    raise
                if self.policy.deadline is not None and loop.time() + pause - started >= self.policy.deadline:
                    raise
            try:
                await asyncio.wait_for(asyncio.Event().wait(), pause)
            except TimeoutError:
                pass

    async def get(self, url: str) -> Any:
        loop = asyncio.get_running_loop()
        ttl = self.policy.cache_ttl
        if ttl > 0 and url in self.cache:
            arrived, response = self.cache[url]
            if loop.time() - arrived < ttl:
                return response
        await self.bulkhead.acquire()
        try:
            response = await self.fetch(url)
        except asyncio.CancelledError:
            self.abandoned += 1
            raise
        except Exception as error:
            if self.fallback is None:
                raise
            return self.fallback(url, error)
        finally:
            self.bulkhead.release()
        if ttl > 0 and 200 <= response.status_code < 300:
            self.cache[url] = (loop.time(), response)
        return response
