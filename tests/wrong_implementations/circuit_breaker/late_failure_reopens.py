"""Every failure of a call made while closed counts, even one that ends after the breaker opened:
it restarts the timer."""

EXPECT = {
    "check": "check_breaker_late_calls",
    "subject": "CircuitBreaker",
    "property": "10 s after it opened, is made",
    "observed": "raised CircuitOpenError",
    "hint": "count a failure only while the state is still CLOSED",
}


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int = 5,
        recovery_timeout: float = 30.0,
        half_open_max_calls: int = 1,
        counted: tuple[type[BaseException], ...] = (Exception,),
        name: str = "breaker",
    ) -> None:
        self.failure_threshold = failure_threshold  # consecutive failures that open it
        self.recovery_timeout = recovery_timeout  # seconds open before a trial call
        self.half_open_max_calls = half_open_max_calls  # trials at once; successes that close it
        self.counted = counted  # the exception types that count as failures
        self.name = name
        self.state = BreakerState.CLOSED
        self.failures = 0  # consecutive failures while closed
        self.successes = 0  # successful trials in this half-open period
        self.trials = 0  # trial calls running now
        self.opened_at: float | None = None  # when it last opened, on the loop's clock

    def _move_to(self, state: BreakerState) -> None:
        """Change state, and emit the transition as a ``breaker.state`` event."""
        emit("breaker.state", name=self.name, old=self.state.value, new=state.value)
        self.state = state

    async def call(self, func: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        """``await func(*args, **kwargs)`` if the breaker lets the call through; else CircuitOpenError."""
        loop = asyncio.get_running_loop()
        if self.state is BreakerState.OPEN:
            assert self.opened_at is not None
            if loop.time() < self.opened_at + self.recovery_timeout:
                raise CircuitOpenError(f"{self.name} is open")
            self._move_to(BreakerState.HALF_OPEN)
            self.successes = self.trials = 0
        trial = self.state is BreakerState.HALF_OPEN
        if trial:
            if self.trials >= self.half_open_max_calls:
                raise CircuitOpenError(f"{self.name} is half open and its trial calls are all taken")
            self.trials += 1
        period = self.opened_at  # a trial counts only in the half-open period that admitted it
        try:
            result = await func(*args, **kwargs)
        except BaseException as error:
            current = trial and self.state is BreakerState.HALF_OPEN and self.opened_at == period
            if current:
                self.trials -= 1
            if isinstance(error, self.counted):
                if current:
                    self.opened_at = loop.time()
                    self._move_to(BreakerState.OPEN)
                elif not trial:
                    self.failures += 1
                    if self.failures >= self.failure_threshold:
                        self.opened_at = loop.time()
                        if self.state is not BreakerState.OPEN:
                            self._move_to(BreakerState.OPEN)
            elif isinstance(error, Exception):
                self._succeeded(trial=current)
            raise
        if trial:
            if self.state is BreakerState.HALF_OPEN and self.opened_at == period:
                self.trials -= 1
                self._succeeded(trial=True)
        else:
            self._succeeded(trial=False)
        return result

    def _succeeded(self, *, trial: bool) -> None:
        """Record a success: a trial of this half-open period, or a call made while closed."""
        if trial:
            self.successes += 1
            if self.successes >= self.half_open_max_calls:
                self._move_to(BreakerState.CLOSED)
                self.failures = self.successes = self.trials = 0
        elif self.state is BreakerState.CLOSED:
            self.failures = 0
