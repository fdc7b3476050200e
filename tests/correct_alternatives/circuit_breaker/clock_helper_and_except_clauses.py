"""A breaker with a _now() helper, and its counting split over two except clauses; a trial is
recognised as one of the current half-open period by the opened_at it was admitted under."""


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

    def _now(self):
        return asyncio.get_running_loop().time()

    async def call(self, func, *args, **kwargs):
        if self.state is BreakerState.OPEN:
            if self._now() < self.opened_at + self.recovery_timeout:
                raise CircuitOpenError(f"{self.name} is open")
            self._move_to(BreakerState.HALF_OPEN)
            self.successes = self.trials = 0
        trial = self.state is BreakerState.HALF_OPEN
        if trial:
            if self.trials >= self.half_open_max_calls:
                raise CircuitOpenError(f"{self.name} is half open, every trial slot taken")
            self.trials += 1
        admitted_under = self.opened_at
        try:
            result = await func(*args, **kwargs)
        except self.counted:
            if self._still_my_period(trial, admitted_under):
                self.trials -= 1
                self.opened_at = self._now()
                self._move_to(BreakerState.OPEN)
            elif not trial and self.state is BreakerState.CLOSED:
                self.failures += 1
                if self.failures >= self.failure_threshold:
                    self.opened_at = self._now()
                    self._move_to(BreakerState.OPEN)
            raise
        except Exception:
            self._on_success(trial, admitted_under)  # an error not counted: the service answered
            raise
        except BaseException:  # cancelled: the trial ends, and frees its slot, counting as neither
            if self._still_my_period(trial, admitted_under):
                self.trials -= 1
            raise
        self._on_success(trial, admitted_under)
        return result

    def _still_my_period(self, trial, admitted_under):
        return trial and self.state is BreakerState.HALF_OPEN and self.opened_at == admitted_under

    def _on_success(self, trial, admitted_under):
        if self._still_my_period(trial, admitted_under):
            self.trials -= 1
            self.successes += 1
            if self.successes >= self.half_open_max_calls:
                self._move_to(BreakerState.CLOSED)
                self.failures = self.successes = 0
        elif not trial and self.state is BreakerState.CLOSED:
            self.failures = 0
