"""scope() passes the absolute deadline to asyncio.timeout(), which takes a duration."""

EXPECT = {
    "check": "check_deadline_scope",
    "subject": "Deadline",
    "property": "TimeoutError at t=5.5, after the cleanup",
    "observed": "the block raised TimeoutError at t=7.5",
    "hint": "asyncio.timeout_at(self.when)",
}


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
        return Deadline(min(self.when, asyncio.get_running_loop().time() + seconds))

    def scope(self):
        return asyncio.timeout(self.when)
