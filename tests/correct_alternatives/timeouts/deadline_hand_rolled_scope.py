"""A Deadline whose scope is a context manager of its own: loop.call_at cancels the block's task at
`when`; on the way out the timer is cancelled, and the cancellation becomes TimeoutError only if it
was the timer's and no other is pending (a cancellation from outside goes through)."""


class _DeadlineScope:
    def __init__(self, when):
        self.when = when

    async def __aenter__(self):
        self.task, self.fired = asyncio.current_task(), False
        self.timer = asyncio.get_running_loop().call_at(self.when, self._fire)
        return self

    def _fire(self):
        self.fired = True
        self.task.cancel()

    async def __aexit__(self, kind, error, traceback):
        self.timer.cancel()
        if self.fired and kind is asyncio.CancelledError and self.task.uncancel() == 0:
            raise TimeoutError from error
        return None


class Deadline:
    def __init__(self, when):
        self.when = when

    @classmethod
    def after(cls, seconds):
        return cls(asyncio.get_running_loop().time() + seconds)

    def remaining(self):
        return max(0.0, self.when - asyncio.get_running_loop().time())

    def expired(self):
        return asyncio.get_running_loop().time() >= self.when

    def child(self, seconds):
        return type(self)(min(self.when, asyncio.get_running_loop().time() + seconds))

    def scope(self):
        return _DeadlineScope(self.when)
