"""TokenBucket without a lock: waiters wait on futures in a deque, and one timer wakes the head when its
tokens are due. A waiter cancelled after its tokens were handed to it gives them back."""


class TokenBucket:
    def __init__(self, rate: float, capacity: int) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError(f"need rate > 0 and capacity >= 1, got rate={rate}, capacity={capacity}")
        self.rate = rate
        self.capacity = capacity
        self.tokens = float(capacity)
        self.updated: float | None = None
        self.waiters: deque[tuple[int, asyncio.Future[None]]] = deque()
        self.timer: asyncio.TimerHandle | None = None

    def _refill(self, now: float) -> None:
        if self.updated is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def _serve(self) -> None:
        """Hand tokens to the waiters at the head, in order; set the timer for the next one."""
        loop = asyncio.get_running_loop()
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self._refill(loop.time())
        while self.waiters:
            amount, future = self.waiters[0]
            if future.done():  # cancelled while waiting
                self.waiters.popleft()
                continue
            if self.tokens < amount - 1e-9:
                self.timer = loop.call_at(loop.time() + (amount - self.tokens) / self.rate, self._serve)
                return
            self.tokens -= amount
            self.waiters.popleft()
            future.set_result(None)

    async def acquire(self, amount: int = 1) -> None:
        if amount > self.capacity:
            raise ValueError(f"asked for {amount} tokens, but the bucket holds at most {self.capacity}")
        loop = asyncio.get_running_loop()
        self._refill(loop.time())
        if not self.waiters and self.tokens >= amount:
            self.tokens -= amount
            return
        future: asyncio.Future[None] = loop.create_future()
        self.waiters.append((amount, future))
        self._serve()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.tokens += amount  # handed over, never used: give them back
            self._serve()
            raise
