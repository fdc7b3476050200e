"""retry_after rounded up to whole seconds, as the Retry-After header will be: the limiter's answer must be
exact; rounding is the HTTP layer's business."""

import math

EXPECT = {
    "check": "check_per_client_limits",
    "subject": "PerClientLimiter",
    "property": "a refusal's retry_after is the seconds until the same request would pass",
    "observed": "retry_after=1;",
    "hint": "(amount - tokens) / rate",
}


class PerClientLimiter:
    """A token bucket per client, answering at once; clients idle for ``idle_after`` seconds are forgotten.

    ::

        limiter = PerClientLimiter(rate=2.0, capacity=5, idle_after=10.0)
        decision = limiter.try_acquire("10.0.0.7")
        if not decision.admitted:
            ...  # answer 429, Retry-After: decision.retry_after
    """

    def __init__(self, rate: float, capacity: int, idle_after: float) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError(f"need rate > 0 and capacity >= 1, got rate={rate}, capacity={capacity}")
        if idle_after < capacity / rate:
            raise ValueError(f"idle_after must be at least capacity / rate = {capacity / rate:g} s, got {idle_after}")
        self.rate = rate
        self.capacity = capacity
        self.idle_after = idle_after  # a client not seen for this long has a full bucket again
        # client id -> (tokens, loop time they were counted at), the least recently seen first
        self.clients: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        """How many clients the limiter keeps state for."""
        return len(self.clients)

    def try_acquire(self, client_id: str, amount: int = 1) -> Decision:
        """Take ``amount`` of ``client_id``'s tokens if it has them now; never wait."""
        if amount > self.capacity:
            raise ValueError(f"asked for {amount} tokens, but a client's bucket holds at most {self.capacity}")
        now = asyncio.get_running_loop().time()
        while self.clients:  # the least recently seen first: stop at the first one still active
            oldest, (_, seen) = next(iter(self.clients.items()))
            if seen + self.idle_after > now:
                break
            del self.clients[oldest]
        tokens, seen = self.clients.pop(client_id, (float(self.capacity), now))
        tokens = min(self.capacity, tokens + (now - seen) * self.rate)
        if tokens >= amount:
            self.clients[client_id] = (tokens - amount, now)
            return Decision(True)
        self.clients[client_id] = (tokens, now)
        return Decision(False, float(math.ceil((amount - tokens) / self.rate)))
