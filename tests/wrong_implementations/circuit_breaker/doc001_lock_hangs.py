"""Document 001's shape: call() holds an asyncio.Lock while it awaits the call, then the success
handler takes the same lock again. asyncio.Lock is not reentrant: the first call never returns."""

EXPECT = {
    "check": "check_breaker_trips",
    "subject": "CircuitBreaker",
    "property": "finishes",
    "observed": "had not finished",
    "hint": "asyncio.Lock is not reentrant",
}


class CircuitBreaker:
    def __init__(
        self, failure_threshold=5, recovery_timeout=30.0, half_open_max_calls=1, counted=(Exception,), name="breaker"
    ):
        self.failure_threshold = failure_threshold
        self.recovery_timeout = recovery_timeout
        self.half_open_max_calls = half_open_max_calls
        self.counted = counted
        self.name = name
        self.state = BreakerState.CLOSED
        self.failures = 0
        self.successes = 0
        self.trials = 0
        self.opened_at = None
        self._lock = asyncio.Lock()

    def _move_to(self, state):
        emit("breaker.state", name=self.name, old=self.state.value, new=state.value)
        self.state = state

    async def call(self, func, *args, **kwargs):
        async with self._lock:
            if self.state is BreakerState.OPEN:
                if asyncio.get_running_loop().time() - self.opened_at < self.recovery_timeout:
                    raise CircuitOpenError("open")
                self._move_to(BreakerState.HALF_OPEN)
            try:
                result = await func(*args, **kwargs)
                await self._on_success()
                return result
            except self.counted:
                await self._on_failure()
                raise

    async def _on_success(self):
        async with self._lock:
            self.failures = 0
            if self.state is BreakerState.HALF_OPEN:
                self._move_to(BreakerState.CLOSED)

    async def _on_failure(self):
        async with self._lock:
            self.failures += 1
            if self.failures >= self.failure_threshold:
                self.opened_at = asyncio.get_running_loop().time()
                self._move_to(BreakerState.OPEN)
