"""The open state ends by a timer (loop.call_at) that moves the breaker to half open at the
deadline; a call that arrives before the timer has run, at that very instant, moves it itself."""


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
        self._timer = None

    def _move_to(self, state):
        emit("breaker.state", name=self.name, old=self.state.value, new=state.value)
        self.state = state

    def _open(self):
        loop = asyncio.get_running_loop()
        self.opened_at = loop.time()
        self._move_to(BreakerState.OPEN)
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_at(self.opened_at + self.recovery_timeout, self._half_open)

    def _half_open(self):
        if self.state is BreakerState.OPEN:
            self._move_to(BreakerState.HALF_OPEN)
            self.successes = self.trials = 0

    async def call(self, func, *args, **kwargs):
        if self.state is BreakerState.OPEN:
            if asyncio.get_running_loop().time() >= self.opened_at + self.recovery_timeout:
                self._half_open()
            else:
                raise CircuitOpenError("open")
        trial = self.state is BreakerState.HALF_OPEN
        if trial and self.trials >= self.half_open_max_calls:
            raise CircuitOpenError("half open: no trial slot free")
        opened_at = self.opened_at
        self.trials += trial
        try:
            result = await func(*args, **kwargs)
        except Exception as error:
            mine = trial and self.state is BreakerState.HALF_OPEN and self.opened_at == opened_at
            self.trials -= mine
            if not isinstance(error, self.counted):  # the service answered: a success
                if mine:
                    self._trial_succeeded()
                elif not trial and self.state is BreakerState.CLOSED:
                    self.failures = 0
            elif mine:
                self._open()
            elif not trial and self.state is BreakerState.CLOSED:
                self.failures += 1
                if self.failures >= self.failure_threshold:
                    self._open()
            raise
        except BaseException:  # cancelled: the trial ends, and frees its slot
            self.trials -= trial and self.state is BreakerState.HALF_OPEN and self.opened_at == opened_at
            raise
        if trial:
            if self.state is BreakerState.HALF_OPEN and self.opened_at == opened_at:
                self.trials -= 1
                self._trial_succeeded()
        elif self.state is BreakerState.CLOSED:
            self.failures = 0
        return result

    def _trial_succeeded(self):
        self.successes += 1
        if self.successes >= self.half_open_max_calls:
            self._move_to(BreakerState.CLOSED)
            self.failures = self.successes = self.trials = 0
