"""remaining() goes below zero once the deadline has passed."""

EXPECT = {
    "check": "check_deadline_clock",
    "subject": "Deadline",
    "property": "at t=105.25, remaining() is 0",
    "observed": "remaining() returned -2.0",
    "hint": "never below 0",
}


class Deadline:
    def __init__(self, when):
        self.when = when

    @classmethod
    def after(cls, seconds):
        return cls(asyncio.get_running_loop().time() + seconds)

    def remaining(self):
        return self.when - asyncio.get_running_loop().time()

    def expired(self):
        return asyncio.get_running_loop().time() >= self.when

    def child(self, seconds):
        return Deadline(min(self.when, asyncio.get_running_loop().time() + seconds))

    def scope(self):
        return asyncio.timeout_at(self.when)
