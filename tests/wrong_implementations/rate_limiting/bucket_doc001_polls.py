"""Document 001 (§2.5.3.1): wait_for_token() asks the bucket, and while it says no, sleeps 0.1 s and asks
again: a waiter passes on the next poll after its token, not when it is there (and waiters race each poll)."""

EXPECT = {
    "check": "check_bucket_burst",
    "subject": "TokenBucket",
    "property": "each request passes at the instant its tokens are there, first come, first served",
    "observed": "passed at t=2.8",
    "hint": "waited too long",
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
        while True:
            self._refill(asyncio.get_running_loop().time())
            if self.tokens >= amount:
                self.tokens -= amount
                return
            await asyncio.sleep(0.1)
