"""expired() uses >: at the deadline itself the work may still start."""

EXPECT = {
    "check": "check_deadline_clock",
    "subject": "Deadline",
    "property": "at t=103.25, expired() is True",
    "observed": "expired() returned False",
    "hint": "`when` itself included",
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
        return asyncio.get_running_loop().time() > self.when

    def child(self, seconds):
        return Deadline(min(self.when, asyncio.get_running_loop().time() + seconds))

    def scope(self):
        return asyncio.timeout_at(self.when)
