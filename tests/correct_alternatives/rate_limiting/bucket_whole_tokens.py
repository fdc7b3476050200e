"""TokenBucket counting whole tokens: the refill adds the whole tokens accrued since `updated` and moves
`updated` on only by the time those whole tokens took (to now once the bucket is full), so the fraction
of the next token is kept in the clock, not in the count. Waiters take turns on the lock, each sleeping
until its last token is due; a waiter cancelled in its sleep has taken nothing."""

import math


class TokenBucket:
    def __init__(self, rate: float, capacity: int) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError(f"need rate > 0 and capacity >= 1, got rate={rate}, capacity={capacity}")
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity  # whole tokens
        self.updated: float | None = None  # the instant the tokens counted were all there
        self._lock = asyncio.Lock()

    def _refill(self, now: float) -> None:
        if self.updated is None:
            self.updated = now
            return
        whole = math.floor((now - self.updated) * self.rate + 1e-9)
        if self.tokens + whole >= self.capacity:
            self.tokens, self.updated = self.capacity, now
        elif whole > 0:
            self.tokens += whole
            self.updated += whole / self.rate

    async def acquire(self, amount: int = 1) -> None:
        if amount > self.capacity:
            raise ValueError(f"asked for {amount} tokens, but the bucket holds at most {self.capacity}")
        loop = asyncio.get_running_loop()
        async with self._lock:
            self._refill(loop.time())
            while self.tokens < amount:
                assert self.updated is not None
                due = self.updated + (amount - self.tokens) / self.rate
                await asyncio.sleep(max(0.0, due - loop.time()))
                self._refill(max(loop.time(), due))
            self.tokens -= amount
