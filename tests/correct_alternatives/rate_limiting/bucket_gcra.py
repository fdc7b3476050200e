"""TokenBucket as GCRA: one number of state, the instant the bucket would be full again. A request of
`amount` may start once that instant is at most (capacity - amount) / rate away; it moves the instant
amount / rate later. The lock keeps waiters in order across the sleep."""

import math


class TokenBucket:
    def __init__(self, rate: float, capacity: int) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError(f"need rate > 0 and capacity >= 1, got rate={rate}, capacity={capacity}")
        self.rate = rate
        self.capacity = capacity
        self.full_at = -math.inf  # when the bucket is (or was) full again
        self._lock = asyncio.Lock()

    async def acquire(self, amount: int = 1) -> None:
        if amount > self.capacity:
            raise ValueError(f"asked for {amount} tokens, but the bucket holds at most {self.capacity}")
        loop = asyncio.get_running_loop()
        async with self._lock:
            now = loop.time()
            start = max(now, self.full_at - (self.capacity - amount) / self.rate)
            if start > now:
                await asyncio.sleep(start - now)
            self.full_at = max(self.full_at, start) + amount / self.rate
