"""Each half-open period has a number; trial calls in flight are kept in a set, so a trial of an
earlier period that ends late changes nothing. The state logic is a table of small methods."""


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
        self._period = 0
        self._in_flight = set()

    def _move_to(self, state):
        emit("breaker.state", name=self.name, old=self.state.value, new=state.value)
        self.state = state

    def _now(self):
        return asyncio.get_running_loop().time()

    def _admit(self):
        if self.state is BreakerState.OPEN:
            if self._now() - self.opened_at < self.recovery_timeout:
                raise CircuitOpenError("open")
            self._period += 1
            self._in_flight.clear()
            self.successes = 0
            self._move_to(BreakerState.HALF_OPEN)
        if self.state is BreakerState.CLOSED:
            return None
        if len(self._in_flight) >= self.half_open_max_calls:
            raise CircuitOpenError("half open: trial calls all taken")
        token = (self._period, object())
        self._in_flight.add(token)
        self.trials = len(self._in_flight)
        return token

    def _ended(self, token, failed):
        if token is None:
            if self.state is BreakerState.CLOSED:
                self.failures = self.failures + 1 if failed else 0
                if self.failures >= self.failure_threshold:
                    self.opened_at = self._now()
                    self._move_to(BreakerState.OPEN)
            return
        if token not in self._in_flight:
            return
        self._in_flight.discard(token)
        self.trials = len(self._in_flight)
        if failed:
            self.opened_at = self._now()
            self._in_flight.clear()
            self._move_to(BreakerState.OPEN)
            return
        self.successes += 1
        if self.successes >= self.half_open_max_calls:
            self.failures = self.successes = self.trials = 0
            self._in_flight.clear()
            self._move_to(BreakerState.CLOSED)

    async def call(self, func, *args, **kwargs):
        token = self._admit()
        try:
            result = await func(*args, **kwargs)
        except asyncio.CancelledError:
            self._in_flight.discard(token)
            raise
        except Exception as error:
            self._ended(token, failed=isinstance(error, self.counted))
            raise
        self._ended(token, failed=False)
        return result
