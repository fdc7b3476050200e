"""No lock and no queue: each waiter sleeps for its own shortfall and checks again, so a small request that
comes later passes a big one that still waits."""

EXPECT = {
    "check": "check_bucket_fifo",
    "subject": "TokenBucket",
    "property": "requests pass in the order they were asked (first come, first served)",
    "observed": "in the order 1, 3, 5, 6, 4, 7, 8, 2",
    "hint": "must not pass a big one",
}


class TokenBucket:
    """At most ``capacity`` at once, then ``rate`` tokens a second; waiters served in order.

    ::

        bucket = TokenBucket(rate=10.0, capacity=20)
        await bucket.acquire()       # one token; waits if the bucket is empty
        await bucket.acquire(5)      # five tokens at once
    """

    def __init__(self, rate: float, capacity: int) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError(f"need rate > 0 and capacity >= 1, got rate={rate}, capacity={capacity}")
        self.rate = rate  # tokens added per second
        self.capacity = capacity  # the most tokens the bucket holds (the largest burst)
        self.tokens = float(capacity)  # tokens in the bucket now: it starts full
        self.updated: float | None = None  # loop time when self.tokens was last brought up to date
        self._lock = asyncio.Lock()  # one waiter at a time, in arrival order

    def _refill(self, now: float) -> None:
        """Bring ``self.tokens`` up to date at loop time ``now``."""
        if self.updated is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    async def acquire(self, amount: int = 1) -> None:
        """Take ``amount`` tokens, waiting (first come, first served) until they have accrued."""
        if amount > self.capacity:
            raise ValueError(f"asked for {amount} tokens, but the bucket holds at most {self.capacity}")
        loop = asyncio.get_running_loop()
        self._refill(loop.time())
        while self.tokens < amount:
            await asyncio.sleep((amount - self.tokens) / self.rate)
            self._refill(loop.time())
        self.tokens -= amount
