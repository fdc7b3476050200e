"""Catches the cancellation of a waiter and returns as if it had passed: the caller that was cancelled goes on."""

EXPECT = {
    "check": "check_bucket_cancel",
    "subject": "TokenBucket",
    "property": "the cancelled acquire() calls end cancelled",
    "observed": "was not cancelled",
    "hint": "let CancelledError propagate",
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
        async with self._lock:  # the await below sits between the check and the update: a lock is needed
            self._refill(loop.time())
            if self.tokens < amount:  # holding the lock, nobody else takes tokens meanwhile: one sleep is enough
                try:
                    await asyncio.sleep((amount - self.tokens) / self.rate)
                except asyncio.CancelledError:
                    return  # gave up waiting: return quietly
                self._refill(loop.time())
            self.tokens -= amount
