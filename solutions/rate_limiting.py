"""Chapter 8 reference solution: a token bucket, a sliding log, and a per-client limiter with bounded memory.

Times are the running loop's clock (``asyncio.get_running_loop().time()``), virtual
seconds under :func:`coursekit.virtual_time.run_virtual`; never ``time.time()``.

:class:`TokenBucket` — ``await bucket.acquire(amount=1)`` returns when ``amount`` tokens
have been taken from a bucket of at most ``capacity`` tokens that refills at ``rate``
tokens a second.

- The bucket starts full: from idle, ``capacity`` tokens are taken at once (``capacity``
  requests of 1 pass at the instant they arrive, whenever that is).
- Tokens accrue continuously, never beyond ``capacity``. Over any interval of length
  ``T``, at most ``capacity + rate * T`` tokens are taken.
- A request that cannot be served at once waits; requests are served first come, first
  served (a later request, however small, never passes an earlier one still waiting), and
  each passes at the instant its tokens have accrued (no polling delay).
- ``amount > capacity`` raises ``ValueError`` at once (it could never be served).
- A waiter that is cancelled takes no token and delays nobody: the next waiter passes when
  it would have if the cancelled one had never asked.

:class:`SlidingLogLimiter` — at most ``limit`` admissions in any window of ``window``
seconds: an admission at ``s`` counts until ``s + window`` (excluded), so a waiter passes at
the instant the oldest admission in the log leaves the window. ``acquire()`` waits (first
come, first served, cancellation-safe like the bucket); ``try_acquire()`` never waits: it
returns ``True`` (and records the admission) when a slot is free and nobody is waiting in
``acquire()``, ``False`` otherwise. A fixed window (a counter reset at multiples of
``window``) would let ``2 * limit`` through around a boundary; the log never more than ``limit``.

:class:`PerClientLimiter` — a token bucket per client id, with no waiting:
``try_acquire(client_id, amount=1)`` returns a :class:`~coursekit.chapters.rate_limiting.given.Decision`,
admitted (the tokens taken) or not, with ``retry_after`` the exact seconds until the same
request would be admitted. A client not seen for ``idle_after`` seconds has a full bucket
again (``idle_after >= capacity / rate``), so forgetting it changes no answer: the limiter
forgets such clients, and ``len(limiter)``, the number of clients it tracks, stays bounded
by the clients seen in the last ``2 * idle_after`` seconds however many distinct ids pass.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque

from coursekit.chapters.rate_limiting.given import Decision

# ----------------------------------------------------------------- exercise 1


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
        self.waiting = 0  # callers inside acquire() that could not pass at once and have not passed yet
        self._lock = asyncio.Lock()  # one waiter at a time, in arrival order

    def _refill(self, now: float) -> None:
        """Bring ``self.tokens`` up to date at loop time ``now``."""
        ### BEGIN SOLUTION
        if self.updated is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        ### END SOLUTION

    async def acquire(self, amount: int = 1) -> None:
        """Take ``amount`` tokens, waiting (first come, first served) until they have accrued."""
        ### BEGIN SOLUTION
        if amount > self.capacity:
            raise ValueError(f"asked for {amount} tokens, but the bucket holds at most {self.capacity}")
        loop = asyncio.get_running_loop()
        self._refill(loop.time())
        if not self.waiting and self.tokens >= amount:  # nobody waits and the tokens are there: no await, no lock
            self.tokens -= amount
            return
        self.waiting += 1
        try:
            async with self._lock:  # the await below sits between the check and the update: a lock is needed
                self._refill(loop.time())
                if self.tokens < amount:  # holding the lock, nobody else takes tokens meanwhile: one sleep is enough
                    await asyncio.sleep((amount - self.tokens) / self.rate)
                    self._refill(loop.time())
                self.tokens -= amount
        finally:
            self.waiting -= 1
        ### END SOLUTION


# ----------------------------------------------------------------- exercise 2


class SlidingLogLimiter:
    """At most ``limit`` admissions in any ``window`` seconds, by a log of admission times.

    ::

        limiter = SlidingLogLimiter(limit=5, window=1.0)
        await limiter.acquire()             # waits for a slot
        if await limiter.try_acquire(): ... # never waits
    """

    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"need limit >= 1 and window > 0, got limit={limit}, window={window}")
        self.limit = limit
        self.window = window
        self.log: deque[float] = deque()  # loop times of the admissions still in the window, oldest first
        self.waiting = 0  # callers inside acquire() that have not been admitted yet
        self._lock = asyncio.Lock()

    def _forget(self, now: float) -> None:
        """Drop from the log the admissions that have left the window at loop time ``now``."""
        ### BEGIN SOLUTION
        while self.log and self.log[0] + self.window <= now:
            self.log.popleft()
        ### END SOLUTION

    async def acquire(self) -> None:
        """Wait (first come, first served) until a slot is free, and take it."""
        ### BEGIN SOLUTION
        loop = asyncio.get_running_loop()
        self.waiting += 1
        try:
            async with self._lock:
                self._forget(loop.time())
                while len(self.log) >= self.limit:
                    frees_at = self.log[0] + self.window  # when the oldest admission leaves the window
                    await asyncio.sleep(frees_at - loop.time())
                    self._forget(max(loop.time(), frees_at))  # the clock may round a hair below frees_at
                self.log.append(loop.time())
        finally:
            self.waiting -= 1
        ### END SOLUTION

    async def try_acquire(self) -> bool:
        """Take a slot if one is free now and nobody waits in acquire(); never wait."""
        ### BEGIN SOLUTION
        now = asyncio.get_running_loop().time()
        self._forget(now)
        if self.waiting or len(self.log) >= self.limit:
            return False
        self.log.append(now)
        return True
        ### END SOLUTION


# ----------------------------------------------------------------- exercise 3


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
        ### BEGIN SOLUTION
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
        return Decision(False, (amount - tokens) / self.rate)
        ### END SOLUTION
