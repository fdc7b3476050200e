"""try_acquire() looks only at the log: a slot that frees up goes to whoever asks first, and a try_acquire()
at the right instant passes a caller that has been waiting in acquire()."""

EXPECT = {
    "check": "check_log_try",
    "subject": "SlidingLogLimiter",
    "property": "returns False: it does not pass the waiters",
    "observed": "returned True",
    "hint": "count the waiters",
}


class SlidingLogLimiter:
    """At most ``limit`` admissions in any ``window`` seconds, by a log of admission times.

    ::

        limiter = SlidingLogLimiter(limit=5, window=1.0)
        await limiter.acquire()             # waits for a slot
        if await limiter.try_acquire(): ... # never waits
    """

    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"need limit >= 1 and window > 0, got limit={limit}, window={window}")
        self.limit = limit
        self.window = window
        self.log: deque[float] = deque()  # loop times of the admissions still in the window, oldest first
        self.waiting = 0  # callers inside acquire() that have not been admitted yet
        self._lock = asyncio.Lock()

    def _forget(self, now: float) -> None:
        """Drop from the log the admissions that have left the window at loop time ``now``."""
        while self.log and self.log[0] + self.window <= now:
            self.log.popleft()

    async def acquire(self) -> None:
        """Wait (first come, first served) until a slot is free, and take it."""
        loop = asyncio.get_running_loop()
        self.waiting += 1
        try:
            async with self._lock:
                self._forget(loop.time())
                while len(self.log) >= self.limit:
                    frees_at = self.log[0] + self.window  # when the oldest admission leaves the window
                    await asyncio.sleep(frees_at - loop.time())
                    self._forget(max(loop.time(), frees_at))  # the clock may round a hair below frees_at
                self.log.append(loop.time())
        finally:
            self.waiting -= 1

    async def try_acquire(self) -> bool:
        """Take a slot if one is free now and nobody waits in acquire(); never wait."""
        now = asyncio.get_running_loop().time()
        self._forget(now)
        if len(self.log) >= self.limit:
            return False
        self.log.append(now)
        return True
