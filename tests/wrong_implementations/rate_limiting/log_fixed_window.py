"""A fixed window: a counter reset at every multiple of `window` on the loop's clock. Around a reset, 2 * limit
- 1 requests pass within a fraction of a window."""

EXPECT = {
    "check": "check_log_limit",
    "subject": "SlidingLogLimiter",
    "property": "at most limit=3 pass in any 1 s",
    "observed": "passed from t=",
    "hint": "a counter reset at fixed instants",
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

    def _window_of(self, now: float) -> int:
        index = int(now // self.window)
        if index != getattr(self, "index", None):
            self.index, self.count = index, 0
        return index

    def _forget(self, now: float) -> None:
        """Drop from the log the admissions that have left the window at loop time ``now``."""
        self._window_of(now)

    async def acquire(self) -> None:
        """Wait (first come, first served) until a slot is free, and take it."""
        loop = asyncio.get_running_loop()
        self.waiting += 1
        try:
            async with self._lock:
                self._forget(loop.time())
                while self.count >= self.limit:
                    await asyncio.sleep((self.index + 1) * self.window - loop.time())
                    self._forget(loop.time())
                self.count += 1
        finally:
            self.waiting -= 1

    async def try_acquire(self) -> bool:
        """Take a slot if one is free now and nobody waits in acquire(); never wait."""
        now = asyncio.get_running_loop().time()
        self._forget(now)
        if self.waiting or self.count >= self.limit:
            return False
        self.count += 1
        return True
