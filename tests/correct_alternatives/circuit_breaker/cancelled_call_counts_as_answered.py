"""The bookkeeping in one `finally`, whatever ended the call: a cancellation (a BaseException, not an
instance of `counted`) is taken at the statement's word, "an exception that is not counted counts as a
success", so a cancelled trial is a successful one and a cancelled call while closed resets the count.
The statement allows it: it says nothing of cancellation beyond that sentence, and every trial that ends
frees its slot."""


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

    def _open(self):
        self.opened_at = asyncio.get_running_loop().time()
        self._move_to(BreakerState.OPEN)

    async def call(self, func, *args, **kwargs):
        if self.state is BreakerState.OPEN:
            if asyncio.get_running_loop().time() - self.opened_at < self.recovery_timeout:
                raise CircuitOpenError(f"{self.name} is open")
            self._move_to(BreakerState.HALF_OPEN)
            self.successes = self.trials = 0
        trial = self.state is BreakerState.HALF_OPEN
        if trial and self.trials >= self.half_open_max_calls:
            raise CircuitOpenError(f"{self.name} is half open, no trial slot free")
        self.trials += trial
        period = self.opened_at
        failed = True  # until the call returns or raises something not counted
        try:
            result = await func(*args, **kwargs)
            failed = False
            return result
        except BaseException as error:
            failed = isinstance(error, self.counted)
            raise
        finally:
            self._ended(trial, period, failed)

    def _ended(self, trial, period, failed):
        if trial:
            if self.state is not BreakerState.HALF_OPEN or self.opened_at != period:
                return  # a late trial: its period is over
            self.trials -= 1
            if failed:
                self._open()
                return
            self.successes += 1
            if self.successes >= self.half_open_max_calls:
                self.failures = self.successes = self.trials = 0
                self._move_to(BreakerState.CLOSED)
        elif self.state is BreakerState.CLOSED:
            self.failures = self.failures + 1 if failed else 0
            if self.failures >= self.failure_threshold:
                self._open()
