"""TokenBucket served by a background task: acquire() queues a future; a task of the bucket's own hands out
tokens in order, sleeping until the head's tokens are due, and ends when nobody waits. A cancelled head
restarts it, so that the next waiter is not served on the cancelled one's schedule."""


class TokenBucket:
    def __init__(self, rate: float, capacity: int) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError(f"need rate > 0 and capacity >= 1, got rate={rate}, capacity={capacity}")
        self.rate = rate
        self.capacity = capacity
        self.tokens = float(capacity)
        self.updated: float | None = None
        self.queue: deque[tuple[int, asyncio.Future[None]]] = deque()
        self.server: asyncio.Task[None] | None = None

    def _refill(self, now: float) -> None:
        if self.updated is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        while self.queue:
            self._refill(loop.time())
            amount, future = self.queue[0]
            if future.done():
                self.queue.popleft()
            elif self.tokens >= amount - 1e-9:
                self.tokens -= amount
                self.queue.popleft()
                future.set_result(None)
            else:
                await asyncio.sleep((amount - self.tokens) / self.rate)

    def _restart(self) -> None:
        if self.server is not None and not self.server.done():
            self.server.cancel()
        self.server = asyncio.get_running_loop().create_task(self._serve())

    async def acquire(self, amount: int = 1) -> None:
        if amount > self.capacity:
            raise ValueError(f"asked for {amount} tokens, but the bucket holds at most {self.capacity}")
        loop = asyncio.get_running_loop()
        self._refill(loop.time())
        if not self.queue and self.tokens >= amount:
            self.tokens -= amount
            return
        future: asyncio.Future[None] = loop.create_future()
        self.queue.append((amount, future))
        if self.server is None or self.server.done():
            self._restart()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.tokens += amount
            self._restart()
            raise
