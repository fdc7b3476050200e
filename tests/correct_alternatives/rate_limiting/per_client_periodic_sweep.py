"""PerClientLimiter with a plain dict, swept in full once every idle_after seconds (on a call): memory stays
within the clients of the last 2 * idle_after seconds, with no ordering to maintain."""


class PerClientLimiter:
    def __init__(self, rate: float, capacity: int, idle_after: float) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError(f"need rate > 0 and capacity >= 1, got rate={rate}, capacity={capacity}")
        if idle_after < capacity / rate:
            raise ValueError(f"idle_after must be at least capacity / rate = {capacity / rate:g} s, got {idle_after}")
        self.rate = rate
        self.capacity = capacity
        self.idle_after = idle_after
        self.buckets: dict[str, tuple[float, float]] = {}
        self.swept: float | None = None

    def __len__(self) -> int:
        return len(self.buckets)

    def try_acquire(self, client_id: str, amount: int = 1) -> Decision:
        if amount > self.capacity:
            raise ValueError(f"asked for {amount} tokens, but a client's bucket holds at most {self.capacity}")
        now = asyncio.get_running_loop().time()
        if self.swept is None:
            self.swept = now
        elif now - self.swept >= self.idle_after:
            self.buckets = {c: (t, s) for c, (t, s) in self.buckets.items() if now - s < self.idle_after}
            self.swept = now
        tokens, seen = self.buckets.get(client_id, (float(self.capacity), now))
        tokens = min(self.capacity, tokens + (now - seen) * self.rate)
        if tokens >= amount:
            self.buckets[client_id] = (tokens - amount, now)
            return Decision(True)
        self.buckets[client_id] = (tokens, now)
        return Decision(False, (amount - tokens) / self.rate)
