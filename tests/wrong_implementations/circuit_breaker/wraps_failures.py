"""Wraps every failure in an error of its own (`raise RuntimeError(...) from error`): the caller can no longer
catch the service's error, and a retry loop cannot tell a 404 from a 503."""

EXPECT = {
    "check": "check_breaker_trips",
    "subject": "CircuitBreaker",
    "property": "while closed, a failing call is made and its error reaches the caller unchanged",
    "observed": "raised RuntimeError",
    "hint": "re-raise what it raises",
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

    def _move_to(self, state):
        emit("breaker.state", name=self.name, old=self.state.value, new=state.value)
        self.state = state

    async def call(self, func, *args, **kwargs):
        loop = asyncio.get_running_loop()
        if self.state is BreakerState.OPEN:
            if loop.time() < self.opened_at + self.recovery_timeout:
                raise CircuitOpenError(f"{self.name} is open")
            self._move_to(BreakerState.HALF_OPEN)
            self.successes = self.trials = 0
        trial = self.state is BreakerState.HALF_OPEN
        if trial:
            if self.trials >= self.half_open_max_calls:
                raise CircuitOpenError(f"{self.name} is half open, every trial slot taken")
            self.trials += 1
        period = self.opened_at
        try:
            result = await func(*args, **kwargs)
        except Exception as error:
            current = trial and self.state is BreakerState.HALF_OPEN and self.opened_at == period
            if current:
                self.trials -= 1
            if isinstance(error, self.counted):
                if current:
                    self.opened_at = loop.time()
                    self._move_to(BreakerState.OPEN)
                elif not trial and self.state is BreakerState.CLOSED:
                    self.failures += 1
                    if self.failures >= self.failure_threshold:
                        self.opened_at = loop.time()
                        self._move_to(BreakerState.OPEN)
            else:
                self._succeeded(trial=current)
            raise RuntimeError(f"{self.name}: the call failed") from error
        if trial:
            if self.state is BreakerState.HALF_OPEN and self.opened_at == period:
                self.trials -= 1
                self._succeeded(trial=True)
        else:
            self._succeeded(trial=False)
        return result

    def _succeeded(self, *, trial):
        if trial:
            self.successes += 1
            if self.successes >= self.half_open_max_calls:
                self._move_to(BreakerState.CLOSED)
                self.failures = self.successes = self.trials = 0
        elif self.state is BreakerState.CLOSED:
            self.failures = 0
