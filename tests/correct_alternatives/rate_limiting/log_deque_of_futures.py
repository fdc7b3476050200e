"""SlidingLogLimiter without a lock: waiters wait on futures in a deque; a timer at the instant the
oldest admission leaves the window hands the free slots to them, in order."""


class SlidingLogLimiter:
    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"need limit >= 1 and window > 0, got limit={limit}, window={window}")
        self.limit = limit
        self.window = window
        self.log: deque[float] = deque()
        self.waiters: deque[asyncio.Future[float]] = deque()
        self.timer: asyncio.TimerHandle | None = None

    def _forget(self, now: float) -> None:
        while self.log and self.log[0] + self.window <= now:
            self.log.popleft()

    def _waiting(self) -> bool:
        while self.waiters and self.waiters[0].done():
            self.waiters.popleft()
        return bool(self.waiters)

    def _serve(self, at: float | None = None) -> None:
        loop = asyncio.get_running_loop()
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        now = loop.time()
        self._forget(now if at is None else max(now, at))
        while self._waiting() and len(self.log) < self.limit:
            self.log.append(now)
            self.waiters.popleft().set_result(now)
        if self._waiting():
            when = self.log[0] + self.window
            self.timer = loop.call_at(when, self._serve, when)

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        self._forget(loop.time())
        if not self._waiting() and len(self.log) < self.limit:
            self.log.append(loop.time())
            return
        future: asyncio.Future[float] = loop.create_future()
        self.waiters.append(future)
        self._serve()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.log.remove(future.result())  # a slot handed over, never used
            self._serve()
            raise

    async def try_acquire(self) -> bool:
        now = asyncio.get_running_loop().time()
        self._forget(now)
        if self._waiting() or len(self.log) >= self.limit:
            return False
        self.log.append(now)
        return True
