"""child() returns the time, not a Deadline: the caller cannot pass it down."""

EXPECT = {
    "check": "check_deadline_child",
    "subject": "Deadline",
    "property": ".child(2) at t=8.5 is a Deadline",
    "observed": "it returned 10.5",
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
        return min(self.when, asyncio.get_running_loop().time() + seconds)

    def scope(self):
        return asyncio.timeout_at(self.when)
